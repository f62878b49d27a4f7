package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.link.LinkAuth;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkMessage.AuthChallenge;
import io.blockrep.common.link.LinkMessage.AuthResponse;
import io.blockrep.common.link.LinkProtocolException;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The secondary side against a raw socket speaking (and breaking) the protocol. */
class LinkServerIT {
    @TempDir
    Path dir;
    LinkFixture fixture;
    LinkServer server;
    Volume secondary;
    String before;

    @BeforeEach
    void start() {
        fixture = new LinkFixture(dir);
        secondary = fixture.volume("vol-s", Role.SECONDARY);
        fixture.volume("vol-p", Role.PRIMARY);
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), fixture);
        before = LinkFixture.sha256(secondary.metadata().path());
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        fixture.close();
    }

    @Test
    void authenticatedWritesAndFlushesAreAppliedAndAcked() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            byte[] data = "replicated!".getBytes();
            raw.send(new LinkMessage.Write("vol-s", 8192, true, ByteBuffer.wrap(data)), 5);
            raw.expectAck(5, LinkStatus.OK);
            raw.send(new LinkMessage.Flush("vol-s"), 6);
            raw.expectAck(6, LinkStatus.OK);
            raw.send(new LinkMessage.Ping(), 7);
            assertThat(raw.read()).extracting(LinkFrame::type, LinkFrame::requestId).containsExactly(
                    io.blockrep.common.link.MessageType.PONG, 7L);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            secondary.read(8192, back);
            assertThat(back.array()).isEqualTo(data);
        }
    }

    @Test
    void wrongSecretGetsErrorAndCloseAndNothingIsWritten() throws Exception {
        try (Raw raw = new Raw()) {
            raw.send(new AuthChallenge("site-a", LinkAuth.newNonce()), 0);
            AuthChallenge theirs = (AuthChallenge) LinkMessage.decode(raw.read());
            byte[] proof = LinkAuth.prove(SharedSecret.of("the-wrong-secret-value"), theirs.nonce(), "site-a", "site-b");
            raw.send(new AuthResponse(proof), 0);
            raw.send(new LinkMessage.Write("vol-s", 0, false, ByteBuffer.wrap(new byte[4096])), 1);
            raw.expectErrorThenClose(LinkStatus.AUTH_FAILED);
        }
        assertUnchanged();
    }

    @Test
    void writeBeforeAuthenticationGetsErrorAndClose() throws Exception {
        try (Raw raw = new Raw()) {
            raw.send(new LinkMessage.Write("vol-s", 0, false, ByteBuffer.wrap(filled(4096))), 1);
            raw.expectErrorThenClose(LinkStatus.NOT_AUTHENTICATED);
        }
        assertUnchanged();
    }

    @Test
    void badMagicGetsErrorAndClose() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            byte[] wire = write(0, 4096, 1);
            wire[0] = 'X';
            raw.out.write(wire);
            raw.expectErrorThenClose(LinkStatus.MALFORMED_FRAME);
        }
        assertUnchanged();
    }

    @Test
    void badCrcGetsErrorAndCloseAndTheVerifiedPayloadIsNeverApplied() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            byte[] wire = write(0, 64 * 1024, 1);
            wire[wire.length - 1] ^= 1;
            raw.out.write(wire);
            raw.expectErrorThenClose(LinkStatus.MALFORMED_FRAME);
        }
        assertUnchanged();
    }

    @Test
    void oversizeDeclaredLengthGetsErrorAndClose() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            byte[] wire = write(0, 4096, 1);
            ByteBuffer.wrap(wire).putInt(16, LinkFrame.MAX_PAYLOAD + 1);
            raw.out.write(wire);
            raw.expectErrorThenClose(LinkStatus.MALFORMED_FRAME);
        }
        assertUnchanged();
    }

    @Test
    void outOfBoundsWriteGetsNegativeAckAndTheConnectionStaysUp() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.out.write(write(LinkFixture.SIZE - 100, 4096, 3));
            raw.expectAck(3, LinkStatus.OUT_OF_RANGE);
            raw.send(new LinkMessage.Write("vol-s", -4096, false, ByteBuffer.wrap(filled(10))), 4);
            raw.expectAck(4, LinkStatus.OUT_OF_RANGE);
            raw.send(new LinkMessage.Ping(), 5);
            assertThat(raw.read().requestId()).isEqualTo(5);
        }
        assertUnchanged();
    }

    @Test
    void aVolumeThisSideIsPrimaryForIsNotAttachedAndWritesToItGetErrorAndClose() throws Exception {
        String primaryBefore = LinkFixture.sha256(fixture.find("vol-p").orElseThrow().volume().metadata().path());
        try (Raw raw = new Raw()) {
            assertThatThrownBy(() -> raw.handshake(List.of(LinkFixture.primaryInfo("vol-p"))))
                    .isInstanceOf(LinkProtocolException.class).hasMessageContaining("ROLE_CONFLICT");
        }
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.Write("vol-p", 0, false, ByteBuffer.wrap(filled(4096))), 1);
            raw.expectErrorThenClose(LinkStatus.NOT_ATTACHED);
        }
        assertThat(LinkFixture.sha256(fixture.find("vol-p").orElseThrow().volume().metadata().path())).isEqualTo(primaryBefore);
    }

    @Test
    void aRoleChangeToPrimaryAfterAttachRefusesFurtherWrites() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            fixture.setRole("vol-s", Role.PRIMARY);
            raw.out.write(write(0, 4096, 1));
            raw.expectErrorThenClose(LinkStatus.ROLE_CONFLICT);
        }
        assertUnchanged();
    }

    @Test
    void aDataSetIsJournaledThenAppliedWholeAndTheFilesMatch() throws Exception {
        List<long[]> layout = List.of(new long[] {0, 65536}, new long[] {200_000, 4096}, new long[] {LinkFixture.SIZE - 1000, 1000});
        byte[] expected = java.nio.file.Files.readAllBytes(secondary.metadata().path());
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            sendSet(raw, 1, layout, expected, 10);
            raw.expectDataSetAck(14, 1, LinkStatus.OK);
        }
        assertThat(LinkFixture.sha256(secondary.metadata().path())).isEqualTo(sha256(expected));
        assertThat(journals()).isEmpty();
    }

    @Test
    void aSetWithOneOutOfRangeExtentIsRefusedWholeAndTheConnectionStaysUp() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.DataSetBegin("vol-s", 2, 3, 3 * 4096), 1);
            raw.expectAck(1, LinkStatus.OK);
            raw.send(extent(2, 0, 4096), 2);
            raw.expectAck(2, LinkStatus.OK);
            raw.send(extent(2, LinkFixture.SIZE - 100, 4096), 3);
            raw.expectAck(3, LinkStatus.OUT_OF_RANGE);
            raw.send(extent(2, 8192, 4096), 4);
            raw.expectAck(4, LinkStatus.OUT_OF_RANGE);
            raw.send(new LinkMessage.DataSetCommit(2, 3, 0), 5);
            raw.expectDataSetAck(5, 2, LinkStatus.OUT_OF_RANGE);
            assertThat(journals()).isEmpty();
            raw.send(new LinkMessage.Ping(), 6);
            assertThat(raw.read().requestId()).isEqualTo(6);
        }
        assertUnchanged();
    }

    @Test
    void aCommitWhoseCrcDisagreesIsRefusedAndNothingIsApplied() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.DataSetBegin("vol-s", 3, 1, 4096), 1);
            raw.expectAck(1, LinkStatus.OK);
            raw.send(extent(3, 0, 4096), 2);
            raw.expectAck(2, LinkStatus.OK);
            raw.send(new LinkMessage.DataSetCommit(3, 1, 12345), 3);
            raw.expectDataSetAck(3, 3, LinkStatus.DATASET_MISMATCH);
        }
        assertUnchanged();
        assertThat(journals()).isEmpty();
    }

    @Test
    void aConnectionThatEndsInsideASetAppliesNothingOfIt() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.DataSetBegin("vol-s", 4, 3, 3 * 4096), 1);
            raw.expectAck(1, LinkStatus.OK);
            raw.send(extent(4, 0, 4096), 2);
            raw.expectAck(2, LinkStatus.OK);
            assertThat(journals()).hasSize(1);
        }
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
        assertThat(journals()).isEmpty();
        assertUnchanged();
    }

    @Test
    void malformedOrOutOfOrderDataSetFramesGetErrorAndCloseAndNothingIsApplied() throws Exception {
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(extent(5, 0, 4096), 1);
            raw.expectErrorThenClose(LinkStatus.UNEXPECTED_MESSAGE);
        }
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.DataSetBegin("vol-s", 6, 2, 8192), 1);
            raw.expectAck(1, LinkStatus.OK);
            raw.send(extent(6, 0, 4096), 2);
            raw.expectAck(2, LinkStatus.OK);
            byte[] wire = extent(6, 4096, 4096).toFrame(3).encode();
            wire[wire.length - 1] ^= 1;
            raw.out.write(wire);
            raw.expectErrorThenClose(LinkStatus.MALFORMED_FRAME);
        }
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            ByteBuffer p = ByteBuffer.allocate(32).putShort((short) 5).put("vol-s".getBytes()).putLong(0).putLong(4096).putInt(0).flip();
            raw.out.write(new LinkFrame(io.blockrep.common.link.MessageType.HASH_REQUEST, 0, 1, p).encode());
            raw.expectErrorThenClose(LinkStatus.MALFORMED_FRAME);
        }
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.DataSetBegin("vol-p", 7, 1, 4096), 1);
            raw.expectErrorThenClose(LinkStatus.NOT_ATTACHED);
        }
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
        assertThat(journals()).isEmpty();
        assertUnchanged();
    }

    @Test
    void hashesMatchTheVolumeAndOutOfRangeIsRefused() throws Exception {
        secondary.write(4096, ByteBuffer.wrap(filled(5000)));
        try (Raw raw = new Raw()) {
            raw.handshake(List.of(LinkFixture.primaryInfo("vol-s")));
            raw.send(new LinkMessage.HashRequest("vol-s", 0, 10_000, 4096), 1);
            LinkFrame f = raw.read();
            assertThat(f.requestId()).isEqualTo(1);
            LinkMessage.HashReply reply = (LinkMessage.HashReply) LinkMessage.decode(f);
            assertThat(reply).isEqualTo(new LinkMessage.HashReply(
                    io.blockrep.common.link.BlockHashes.of(secondary, 0, 10_000, 4096)));
            assertThat(reply.digests()).hasSize(3);
            raw.send(new LinkMessage.HashRequest("vol-s", LinkFixture.SIZE - 10, 4096, 4096), 2);
            raw.expectAck(2, LinkStatus.OUT_OF_RANGE);
        }
    }

    /** Sends BEGIN (id first), one EXTENT per (offset, length) of random data, then COMMIT; patches {@code image}. */
    private static void sendSet(Raw raw, long setId, List<long[]> layout, byte[] image, long first) throws Exception {
        long total = layout.stream().mapToLong(l -> l[1]).sum();
        raw.send(new LinkMessage.DataSetBegin("vol-s", setId, layout.size(), total), first);
        raw.expectAck(first, LinkStatus.OK);
        io.blockrep.common.link.DataSetCrc crc = new io.blockrep.common.link.DataSetCrc();
        java.util.Random random = new java.util.Random(setId);
        long id = first;
        for (long[] l : layout) {
            byte[] data = new byte[(int) l[1]];
            random.nextBytes(data);
            System.arraycopy(data, 0, image, (int) l[0], data.length);
            crc.add(l[0], ByteBuffer.wrap(data));
            raw.send(new LinkMessage.DataSetExtent(setId, l[0], ByteBuffer.wrap(data)), ++id);
            raw.expectAck(id, LinkStatus.OK);
        }
        raw.send(new LinkMessage.DataSetCommit(setId, layout.size(), crc.value()), ++id);
    }

    private static LinkMessage.DataSetExtent extent(long setId, long offset, int length) {
        return new LinkMessage.DataSetExtent(setId, offset, ByteBuffer.wrap(filled(length)));
    }

    /** Journals a restart would act on: a connection keeps its last set's dropped journal for reuse. */
    private List<Path> journals() throws IOException {
        return io.blockrep.producer.journal.DataSetJournal.live(fixture.store.volumeDir("vol-s"));
    }

    static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private void assertUnchanged() {
        assertThat(LinkFixture.sha256(secondary.metadata().path())).isEqualTo(before);
    }

    private static byte[] write(long offset, int length, long id) {
        return new LinkMessage.Write("vol-s", offset, false, ByteBuffer.wrap(filled(length))).toFrame(id).encode();
    }

    private static byte[] filled(int length) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) 0x5A);
        return b;
    }

    /** A raw client socket; reads time out after 10 s so a hung server fails the test instead of hanging it. */
    private final class Raw implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Raw() throws IOException {
            socket = new Socket("127.0.0.1", server.port());
            socket.setSoTimeout(10_000);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        void handshake(List<LinkMessage.VolumeInfo> volumes) throws Exception {
            io.blockrep.common.link.LinkHandshake.run("site-a", SECRET, volumes, in, out);
        }

        void send(LinkMessage m, long id) throws IOException {
            out.write(m.toFrame(id).encode());
        }

        LinkFrame read() throws Exception {
            return LinkFrame.read(in);
        }

        void expectAck(long id, LinkStatus status) throws Exception {
            LinkFrame f = read();
            assertThat(f.requestId()).isEqualTo(id);
            assertThat(((LinkMessage.Ack) LinkMessage.decode(f)).status()).isEqualTo(status);
        }

        void expectDataSetAck(long id, long setId, LinkStatus status) throws Exception {
            LinkFrame f = read();
            assertThat(f.requestId()).isEqualTo(id);
            LinkMessage.DataSetAck ack = (LinkMessage.DataSetAck) LinkMessage.decode(f);
            assertThat(ack.setId()).isEqualTo(setId);
            assertThat(ack.status()).as(ack.message()).isEqualTo(status);
        }

        void expectErrorThenClose(LinkStatus status) throws Exception {
            LinkMessage m = LinkMessage.decode(read());
            assertThat(m).isInstanceOf(LinkMessage.Error.class);
            assertThat(((LinkMessage.Error) m).status()).isEqualTo(status);
            socket.shutdownOutput();
            assertThatThrownBy(this::read).isInstanceOfAny(EOFException.class, SocketException.class);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
