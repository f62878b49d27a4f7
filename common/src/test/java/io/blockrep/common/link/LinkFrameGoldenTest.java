package io.blockrep.common.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.link.LinkMessage.Ack;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.link.LinkMessage.Hello;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkMessage.Write;
import io.blockrep.common.volume.Role;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pins the wire layout: these files were produced by version 1 and must keep decoding to the same
 * messages and re-encoding to the same bytes. To regenerate after a deliberate format change (with
 * a version bump), run with {@code -Dblockrep.golden.update=true}.
 */
class LinkFrameGoldenTest {
    static Stream<Arguments> golden() {
        return Stream.of(
                Arguments.of("write-fua.bin", 7L, new Write("vol-a", 65536, true,
                        ByteBuffer.wrap("blockrep".getBytes(StandardCharsets.US_ASCII)))),
                Arguments.of("ack-ok.bin", 7L, Ack.OK),
                Arguments.of("hello.bin", 1L, new Hello("site-a", 1, List.of(
                        new VolumeInfo("vol-a", 1L << 30, 65536, Role.PRIMARY, List.of()),
                        new VolumeInfo("vol-b", 4096 * 1024, 4096, Role.SECONDARY,
                                List.of(new Generation(3, "site-b", 1_700_000_000_000L)))))),
                Arguments.of("ping.bin", 42L, new LinkMessage.Ping()),
                Arguments.of("dataset-begin.bin", 8L, new LinkMessage.DataSetBegin("vol-a", 3L, 2, 12L)),
                Arguments.of("dataset-extent.bin", 9L, new LinkMessage.DataSetExtent(3L, 65536,
                        ByteBuffer.wrap("blockrep".getBytes(StandardCharsets.US_ASCII)))),
                Arguments.of("dataset-commit.bin", 10L, new LinkMessage.DataSetCommit(3L, 2, 0x1234ABCD)),
                Arguments.of("dataset-ack.bin", 10L, new LinkMessage.DataSetAck(3L, LinkStatus.OK, "")),
                Arguments.of("hash-request.bin", 11L, new LinkMessage.HashRequest("vol-a", 0, 6000, 4096)),
                Arguments.of("hash-reply.bin", 11L, new LinkMessage.HashReply(List.of(digest((byte) 0x11), digest((byte) 0x22)))),
                Arguments.of("read-request.bin", 12L, new LinkMessage.ReadRequest("vol-a", 131072, 8)),
                Arguments.of("read-reply.bin", 12L, new LinkMessage.ReadReply(LinkStatus.OK,
                        ByteBuffer.wrap("blockrep".getBytes(StandardCharsets.US_ASCII)))),
                Arguments.of("read-reply-refused.bin", 13L, LinkMessage.ReadReply.refused(LinkStatus.OUT_OF_RANGE)));
    }

    private static byte[] digest(byte fill) {
        byte[] d = new byte[32];
        java.util.Arrays.fill(d, fill);
        return d;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("golden")
    void frameMatchesGoldenFile(String file, long requestId, LinkMessage message) throws Exception {
        byte[] encoded = message.toFrame(requestId).encode();
        if (Boolean.getBoolean("blockrep.golden.update")) {
            Files.write(Path.of("src/test/resources/golden/link", file), encoded);
        }
        byte[] golden = load(file);
        assertThat(encoded).as("encoding of %s", file).isEqualTo(golden);
        LinkFrame frame = LinkFrame.decode(golden);
        assertThat(frame.requestId()).isEqualTo(requestId);
        assertThat(LinkMessage.decode(frame)).isEqualTo(message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("golden")
    void headerFieldsSitAtDocumentedOffsets(String file, long requestId, LinkMessage message) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(load(file));
        assertThat(b.getInt(0)).isEqualTo(0x42524C4B);
        assertThat(b.get(4)).isEqualTo((byte) 1);
        assertThat(b.get(5) & 0xFF).isEqualTo(message.type().code());
        assertThat(b.getShort(6) & 0xFFFF).isEqualTo(message.flags());
        assertThat(b.getLong(8)).isEqualTo(requestId);
        assertThat(b.getInt(16)).isEqualTo(b.capacity() - 24);
    }

    private static byte[] load(String file) throws IOException {
        try (InputStream in = LinkFrameGoldenTest.class.getResourceAsStream("/golden/link/" + file)) {
            assertThat(in).as("golden file %s", file).isNotNull();
            return in.readAllBytes();
        }
    }
}
