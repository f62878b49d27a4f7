package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.config.HostPort;
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
            LinkConfig config = LinkConfig.defaults("site-a", new HostPort("127.0.0.1", server.port()), SECRET);
            ClientHandshake.run(config, volumes, in, out);
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
