package io.blockrep.common.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.link.LinkMessage.Ack;
import io.blockrep.common.link.LinkMessage.AttachResult;
import io.blockrep.common.link.LinkMessage.Attached;
import io.blockrep.common.link.LinkMessage.AuthChallenge;
import io.blockrep.common.link.LinkMessage.AuthResponse;
import io.blockrep.common.link.LinkMessage.Bye;
import io.blockrep.common.link.LinkMessage.Flush;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.link.LinkMessage.Hello;
import io.blockrep.common.link.LinkMessage.Ping;
import io.blockrep.common.link.LinkMessage.Pong;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkMessage.Write;
import io.blockrep.common.volume.Role;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LinkFrameTest {
    static Stream<LinkMessage> messages() {
        byte[] data = new byte[10_000];
        new Random(1).nextBytes(data);
        return Stream.of(
                new AuthChallenge("site-a", LinkAuth.newNonce()),
                new AuthResponse(new byte[32]),
                new Hello("site-a", 1, List.of()),
                new Hello("site-b", 1, List.of(new VolumeInfo("v1", 1 << 20, 4096, Role.SECONDARY,
                        List.of(new Generation(1, "site-a", 10), new Generation(2, "site-b", 20))))),
                new Attached(List.of(new AttachResult("v1", LinkStatus.OK, ""),
                        new AttachResult("v2", LinkStatus.GEOMETRY_MISMATCH, "size differs"))),
                new Write("v1", 4096, false, ByteBuffer.wrap(data)),
                new Write("v1", 0, true, ByteBuffer.allocate(0)),
                new Ack(LinkStatus.OUT_OF_RANGE, "past the end"),
                new Flush("v1"),
                new Ping(),
                new Pong(),
                new LinkMessage.Error(LinkStatus.AUTH_FAILED, "wrong secret"),
                new Bye("shutting down"),
                new LinkMessage.DataSetBegin("v1", 7, 2, 10_000),
                new LinkMessage.DataSetBegin("v1", 8, 2, 10_000, true),
                new LinkMessage.DataSetExtent(7, 8192, ByteBuffer.wrap(data)),
                new LinkMessage.DataSetExtent(7, 0, ByteBuffer.allocate(0)),
                new LinkMessage.DataSetCommit(7, 2, 0xCAFEBABE),
                new LinkMessage.DataSetAck(7, LinkStatus.DATASET_MISMATCH, "crc differs"),
                new LinkMessage.HashRequest("v1", 4096, 1 << 20, 65536),
                new LinkMessage.HashReply(List.of(new byte[32], Arrays.copyOf(data, 32))),
                new LinkMessage.HashReply(List.of()),
                new LinkMessage.ReadRequest("v1", 1L << 40, LinkMessage.MAX_READ),
                new LinkMessage.ReadRequest("v1", 4096, 65536, true),
                LinkMessage.ReadReply.zeros(LinkStatus.OK, 65536),
                new LinkMessage.ReadReply(LinkStatus.OK, ByteBuffer.wrap(data)),
                LinkMessage.ReadReply.refused(LinkStatus.UNKNOWN_VOLUME));
    }

    @ParameterizedTest
    @MethodSource("messages")
    void everyMessageRoundTripsThroughBytesAndStreams(LinkMessage m) throws Exception {
        byte[] wire = m.toFrame(99).encode();
        assertThat(LinkMessage.decode(LinkFrame.decode(wire))).isEqualTo(m);
        InputStream in = new ByteArrayInputStream(concat(wire, wire));
        assertThat(LinkMessage.decode(LinkFrame.read(in))).isEqualTo(m);
        assertThat(LinkFrame.read(in).requestId()).isEqualTo(99);
        assertThatThrownBy(() -> LinkFrame.read(in)).isInstanceOf(EOFException.class);
    }

    @ParameterizedTest
    @MethodSource("messages")
    void writeToPutsTheSameBytesOnTheWireAsEncode(LinkMessage m) throws Exception {
        LinkFrame frame = m.toFrame(42);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        frame.writeTo(out);
        assertThat(out.toByteArray()).isEqualTo(frame.encode());
    }

    @ParameterizedTest
    @MethodSource("messages")
    void writeFramePutsTheSameBytesOnTheWireAsEncode(LinkMessage m) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        m.writeFrame(out, 42);
        assertThat(out.toByteArray()).isEqualTo(m.toFrame(42).encode());
    }

    @Test
    void framesReadIntoABufferLieThereOneAfterAnotherAndLargerOnesGetTheirOwnArray() throws Exception {
        byte[] small = new byte[3_000];
        byte[] large = new byte[9_000];
        new Random(3).nextBytes(small);
        new Random(4).nextBytes(large);
        LinkMessage a = new LinkMessage.ReadReply(LinkStatus.OK, ByteBuffer.wrap(small));
        LinkMessage b = new LinkMessage.ReadReply(LinkStatus.OK, ByteBuffer.wrap(large));
        byte[] wire = concat(concat(a.toFrame(1).encode(), a.toFrame(2).encode()), b.toFrame(3).encode());
        InputStream in = new ByteArrayInputStream(wire);
        ByteBuffer into = ByteBuffer.allocate(8_000).position(10);

        LinkFrame first = LinkFrame.read(in, into);
        LinkFrame second = LinkFrame.read(in, into);
        LinkFrame third = LinkFrame.read(in, into);

        assertThat(LinkMessage.decode(first)).isEqualTo(a);
        assertThat(LinkMessage.decode(second)).isEqualTo(a);
        assertThat(LinkMessage.decode(third)).isEqualTo(b);
        int frameBytes = a.toFrame(1).encodedLength();
        assertThat(into.position()).as("the two small frames, not the large one").isEqualTo(10 + 2 * frameBytes);
        into.array()[10 + LinkFrame.HEADER_BYTES + 5] ^= 0x7F;
        assertThat(first.payload().get(5)).as("a view of the buffer, not a copy").isEqualTo(into.array()[10 + LinkFrame.HEADER_BYTES + 5]);
        assertThat(Arrays.copyOfRange(into.array(), 10 + frameBytes, 10 + 2 * frameBytes)).isEqualTo(a.toFrame(2).encode());
        assertThatThrownBy(() -> LinkFrame.read(in, into)).isInstanceOf(EOFException.class);
    }

    @Test
    void aFrameReadIntoABufferIsCheckedLikeAnyOther() {
        byte[] wire = new LinkMessage.ReadReply(LinkStatus.OK, ByteBuffer.wrap(new byte[100])).toFrame(1).encode();
        wire[LinkFrame.HEADER_BYTES + 50] ^= 1;
        ByteBuffer into = ByteBuffer.allocate(1_000);
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(wire), into))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("CRC32C mismatch");
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(wire), ByteBuffer.allocate(1_000).asReadOnlyBuffer()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writeToHandlesReadOnlyAndDirectPayloads() throws Exception {
        byte[] data = new byte[200_000];
        new Random(2).nextBytes(data);
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
        for (ByteBuffer payload : List.of(ByteBuffer.wrap(data).asReadOnlyBuffer(), direct, ByteBuffer.wrap(data, 5, 70_000))) {
            LinkFrame frame = new LinkFrame(MessageType.WRITE, 0, 9, payload);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            frame.writeTo(out);
            assertThat(out.toByteArray()).isEqualTo(frame.encode());
            assertThat(LinkFrame.decode(out.toByteArray())).isEqualTo(frame);
            assertThat(frame.payload().isReadOnly()).isTrue();
        }
    }

    @Test
    void badMagicIsRejected() {
        byte[] wire = pingFrame();
        wire[0] ^= 1;
        assertRejected(wire, LinkStatus.MALFORMED_FRAME, "bad magic");
    }

    @Test
    void badVersionIsRejected() {
        byte[] wire = resealed(pingFrame(), 4, (byte) 2);
        assertRejected(wire, LinkStatus.UNSUPPORTED_VERSION, "version 2");
    }

    @Test
    void badCrcIsRejected() {
        byte[] wire = new Flush("v1").toFrame(1).encode();
        wire[LinkFrame.HEADER_BYTES] ^= 0x40;
        assertRejected(wire, LinkStatus.MALFORMED_FRAME, "CRC32C mismatch");
    }

    @Test
    void unknownTypesAreRejected() {
        assertRejected(resealed(pingFrame(), 5, (byte) 0x55), LinkStatus.UNKNOWN_MESSAGE_TYPE, "unknown message type 0x55");
        assertRejected(resealed(pingFrame(), 5, (byte) 0x3A), LinkStatus.UNKNOWN_MESSAGE_TYPE, "unknown message type 0x3A");
    }

    @Test
    void malformedDataSetAndHashPayloadsAreRejectedWithTheProtocolException() {
        assertMalformed(MessageType.DATASET_BEGIN, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(-1).putInt(1).putLong(10)), "set id -1 is negative");
        assertMalformed(MessageType.DATASET_BEGIN, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(1).putInt(-3).putLong(10)), "extent count -3 is negative");
        assertMalformed(MessageType.DATASET_EXTENT, payload(b -> b.putInt(1)), "payload ends early");
        assertMalformed(MessageType.DATASET_COMMIT, payload(b -> b.putLong(1).putInt(1).putInt(0).put((byte) 0)), "trailing");
        assertMalformed(MessageType.HASH_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putLong(4096).putInt(0)), "hash block size 0");
        assertMalformed(MessageType.HASH_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putLong(65_537L * 512).putInt(512)), "exceeds 65536 blocks");
        assertMalformed(MessageType.HASH_REPLY, payload(b -> b.putInt(2).put(new byte[40])), "payload ends early");
        assertMalformed(MessageType.HASH_REPLY, payload(b -> b.putInt(70_000)), "digest count 70000");
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.DATASET_EXTENT, LinkFrame.FLAG_FUA, 1,
                ByteBuffer.allocate(16)))).isInstanceOf(LinkProtocolException.class).hasMessageContaining("only valid on WRITE");
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.PING, LinkFrame.FLAG_ZEROS, 1,
                ByteBuffer.allocate(0)))).isInstanceOf(LinkProtocolException.class).hasMessageContaining("ZEROS only on READ_REQUEST");
        assertThatThrownBy(() -> LinkMessage.ReadReply.zeros(LinkStatus.IO_ERROR, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThat(LinkMessage.ReadReply.zeros(LinkStatus.OK, 4096).length()).isEqualTo(4096);
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.DATASET_EXTENT, LinkFrame.FLAG_DIRECT, 1,
                ByteBuffer.allocate(16)))).isInstanceOf(LinkProtocolException.class).hasMessageContaining("DIRECT only on DATASET_BEGIN");
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.DATASET_BEGIN, LinkFrame.FLAG_FUA,
                1, new LinkMessage.DataSetBegin("v1", 7, 2, 10_000).toFrame(1).payload())))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("only valid on WRITE");
    }

    @Test
    void malformedReadPayloadsAreRejectedWithTheProtocolException() {
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putInt(0)), "read length 0 is outside 1..33554432");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putInt(-1)), "read length -1");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putInt(LinkMessage.MAX_READ + 1)), "read length 33554433");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(-4096).putInt(4096)), "offset -4096 is negative");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'V').put((byte) '!')
                .putLong(0).putInt(4096)), "not a valid volume id");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0)), "payload ends early");
        assertMalformed(MessageType.READ_REQUEST, payload(b -> b.putShort((short) 2).put((byte) 'v').put((byte) '1')
                .putLong(0).putInt(4096).put((byte) 0)), "trailing");
        assertMalformed(MessageType.READ_REPLY, payload(b -> b.put((byte) 0)), "payload ends early");
        assertMalformed(MessageType.READ_REPLY, payload(b -> b.putShort((short) LinkStatus.OUT_OF_RANGE.code()).put(new byte[3])),
                "must carry none");
        assertThatThrownBy(() -> new LinkMessage.ReadRequest("v1", 0, LinkMessage.MAX_READ + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LinkMessage.ReadReply(LinkStatus.OK, ByteBuffer.allocate(LinkMessage.MAX_READ + 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static ByteBuffer payload(java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(1024);
        fill.accept(b);
        return b.flip();
    }

    private static void assertMalformed(MessageType type, ByteBuffer payload, String why) {
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(type, 0, 1, payload)))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("malformed " + type)
                .hasMessageContaining(why)
                .satisfies(e -> assertThat(((LinkProtocolException) e).status()).isEqualTo(LinkStatus.MALFORMED_FRAME));
    }

    @Test
    void oversizeLengthIsRejectedBeforeReadingThePayload() {
        byte[] header = Arrays.copyOf(pingFrame(), LinkFrame.HEADER_BYTES);
        ByteBuffer.wrap(header).putInt(16, 0x7FFF_FFFF);
        // Only the header is present: a reader that allocated or waited for the payload would
        // report truncation instead.
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(header)))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("exceeds the maximum");
        ByteBuffer.wrap(header).putInt(16, -1);
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(header)))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("4294967295");
    }

    @Test
    void beforeAuthenticationAFrameOverThePreAuthLimitIsRefusedFromItsHeaderAlone() throws Exception {
        byte[] header = Arrays.copyOf(new AuthResponse(new byte[32]).toFrame(0).encode(), LinkFrame.HEADER_BYTES);
        ByteBuffer.wrap(header).putInt(16, LinkFrame.MAX_PAYLOAD);
        // Only the header is there: a reader that waited for (or allocated) the payload reports truncation.
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(header), LinkFrame.PRE_AUTH_MAX_PAYLOAD))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("before authentication")
                .satisfies(e -> assertThat(((LinkProtocolException) e).status()).isEqualTo(LinkStatus.NOT_AUTHENTICATED));
        ByteBuffer.wrap(header).putInt(16, LinkFrame.PRE_AUTH_MAX_PAYLOAD + 1);
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(header), LinkFrame.PRE_AUTH_MAX_PAYLOAD))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("before authentication");
    }

    @Test
    void thePreAuthLimitHoldsTheLargestHandshakeFrames() throws Exception {
        String longest = "x".repeat(LinkMessage.MAX_STRING);
        for (LinkMessage m : List.of(new AuthChallenge(longest, LinkAuth.newNonce()), new AuthResponse(new byte[32]),
                new LinkMessage.Error(LinkStatus.AUTH_FAILED, longest))) {
            byte[] wire = m.toFrame(0).encode();
            assertThat(LinkMessage.decode(LinkFrame.read(new ByteArrayInputStream(wire), LinkFrame.PRE_AUTH_MAX_PAYLOAD))).isEqualTo(m);
        }
    }

    @Test
    void truncatedFramesAreRejected() {
        byte[] wire = new Flush("v1").toFrame(1).encode();
        for (int cut = 1; cut < wire.length; cut++) {
            assertRejected(Arrays.copyOf(wire, cut), LinkStatus.MALFORMED_FRAME, "truncated");
        }
    }

    @Test
    void malformedPayloadsAreRejectedWithTheProtocolException() throws Exception {
        LinkFrame shortWrite = new LinkFrame(MessageType.WRITE, 0, 1, ByteBuffer.wrap(new byte[] {0, 2, 'v'}));
        assertThatThrownBy(() -> LinkMessage.decode(shortWrite)).isInstanceOf(LinkProtocolException.class)
                .hasMessageContaining("malformed WRITE");
        LinkFrame badId = new Flush("v1").toFrame(1);
        ByteBuffer p = ByteBuffer.allocate(4).putShort((short) 2).put((byte) 'V').put((byte) '!').flip();
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.FLUSH, 0, 1, p)))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("not a valid volume id");
        ByteBuffer trailing = ByteBuffer.allocate(badId.payload().remaining() + 1).put(badId.payload()).put((byte) 0).flip();
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.FLUSH, 0, 1, trailing)))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("trailing");
        assertThatThrownBy(() -> LinkMessage.decode(new LinkFrame(MessageType.PING, LinkFrame.FLAG_FUA, 1, ByteBuffer.allocate(0))))
                .isInstanceOf(LinkProtocolException.class).hasMessageContaining("only valid on WRITE");
    }

    @Test
    void randomGarbageOnlyEverRaisesTheProtocolException() {
        Random r = new Random(7);
        byte[] valid = new Hello("site-a", 1, List.of(new VolumeInfo("v1", 1 << 20, 4096, Role.PRIMARY,
                List.of(new Generation(1, "a", 2))))).toFrame(3).encode();
        for (int i = 0; i < 20_000; i++) {
            byte[] wire = valid.clone();
            int flips = 1 + r.nextInt(4);
            for (int f = 0; f < flips; f++) {
                wire[LinkFrame.HEADER_BYTES + r.nextInt(wire.length - LinkFrame.HEADER_BYTES - 4)] = (byte) r.nextInt();
            }
            reseal(wire);
            try {
                LinkMessage.decode(LinkFrame.decode(wire));
            } catch (LinkProtocolException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    private static void assertRejected(byte[] wire, LinkStatus status, String message) {
        assertThatThrownBy(() -> LinkFrame.decode(wire)).isInstanceOf(LinkProtocolException.class)
                .hasMessageContaining(message).extracting(e -> ((LinkProtocolException) e).status()).isEqualTo(status);
        assertThatThrownBy(() -> LinkFrame.read(new ByteArrayInputStream(wire))).isInstanceOf(LinkProtocolException.class)
                .hasMessageContaining(message);
    }

    private static byte[] pingFrame() {
        return new Ping().toFrame(1).encode();
    }

    /** Sets one byte and recomputes the CRC, so only the intended check can fail. */
    private static byte[] resealed(byte[] wire, int at, byte value) {
        byte[] copy = wire.clone();
        copy[at] = value;
        reseal(copy);
        return copy;
    }

    private static void reseal(byte[] wire) {
        CRC32C crc = new CRC32C();
        crc.update(wire, 0, wire.length - 4);
        ByteBuffer.wrap(wire).putInt(wire.length - 4, (int) crc.getValue());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
