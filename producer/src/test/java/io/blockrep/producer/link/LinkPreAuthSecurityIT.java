package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.link.LinkAuth;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkMessage.AuthChallenge;
import io.blockrep.common.link.LinkMessage.AuthResponse;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.link.MessageType;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproduction 5 of issue #13: what an unauthenticated client can make the link server hold. Each
 * test talks raw TCP to a real {@link LinkServer}; none measures the heap, they measure what the
 * server does (answers at once, closes in time, refuses past the cap, keeps accepting).
 */
class LinkPreAuthSecurityIT {
    @TempDir
    Path dir;
    LinkFixture fixture;
    LinkServer server;
    Volume secondary;
    final List<Socket> sockets = new ArrayList<>();
    final ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void start() {
        fixture = new LinkFixture(dir);
        secondary = fixture.volume("vol-s", Role.SECONDARY);
    }

    @AfterEach
    void stop() throws IOException {
        trickler.shutdownNow();
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        fixture.close();
    }

    /** A 10 s handshake deadline: every "at once" below is well inside it. */
    private LinkServer serve(Duration handshake) {
        server = LinkServer.start(new LinkServerConfig("site-b", "127.0.0.1", 0, SECRET, handshake, Duration.ofSeconds(60)), fixture);
        return server;
    }

    @Test
    void aHugeFrameHeaderBeforeAuthIsRefusedAtOnceWithoutWaitingForItsPayload() throws Exception {
        serve(Duration.ofSeconds(10));
        Socket s = connect();
        byte[] header = new byte[LinkFrame.HEADER_BYTES];
        ByteBuffer.wrap(header).putInt(LinkFrame.MAGIC).put((byte) LinkFrame.VERSION).put((byte) MessageType.AUTH_CHALLENGE.code())
                .putShort((short) 0).putLong(0).putInt(LinkFrame.MAX_PAYLOAD);
        s.getOutputStream().write(header);
        s.getOutputStream().flush();
        // A server that allocated the 32 MiB buffer waits for it to fill (up to the 10 s deadline);
        // one that checks the pre-authentication limit answers from the header alone.
        s.setSoTimeout(3_000);
        LinkMessage m = LinkMessage.decode(LinkFrame.read(new BufferedInputStream(s.getInputStream())));
        assertThat(m).isInstanceOf(LinkMessage.Error.class);
        assertThat(((LinkMessage.Error) m).status()).isEqualTo(LinkStatus.NOT_AUTHENTICATED);
        assertThat(((LinkMessage.Error) m).message()).contains("before authentication");
    }

    @Test
    void aClientTricklingItsChallengeIsClosedAtTheWholeHandshakeDeadline() throws Exception {
        serve(Duration.ofMillis(1_500));
        Socket s = connect();
        byte[] challenge = new AuthChallenge("site-a", LinkAuth.newNonce()).toFrame(0).encode();
        OutputStream out = s.getOutputStream();
        // One byte every 500 ms: each read is well inside the 1.5 s per-read timeout of today's server.
        int[] next = {0};
        trickler.scheduleAtFixedRate(() -> {
            try {
                if (next[0] < challenge.length) {
                    out.write(challenge[next[0]++]);
                    out.flush();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, 0, 500, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        assertThat(drainUntilClosed(in)).as("the server closed the connection").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(4_000));
        assertThat(next[0]).as("bytes the trickler sent before the close").isLessThan(challenge.length);
    }

    @Test
    void aReplayedAuthResponseFromAnEarlierConnectionIsRefused() throws Exception {
        serve(Duration.ofSeconds(10));
        byte[] recorded;
        byte[] clientNonce = LinkAuth.newNonce();
        try (Socket first = connect()) {
            InputStream in = new BufferedInputStream(first.getInputStream());
            first.getOutputStream().write(new AuthChallenge("site-a", clientNonce).toFrame(0).encode());
            AuthChallenge theirs = (AuthChallenge) LinkMessage.decode(LinkFrame.read(in));
            recorded = LinkAuth.prove(SECRET, theirs.nonce(), "site-a", "site-b");
            first.getOutputStream().write(new AuthResponse(recorded).toFrame(0).encode());
            assertThat(LinkMessage.decode(LinkFrame.read(in))).isInstanceOf(AuthResponse.class);
        }
        // An eavesdropper replays the same two frames on a new connection: the server's new nonce
        // makes the recorded proof worthless.
        Socket second = connect();
        InputStream in = new BufferedInputStream(second.getInputStream());
        second.getOutputStream().write(new AuthChallenge("site-a", clientNonce).toFrame(0).encode());
        AuthChallenge fresh = (AuthChallenge) LinkMessage.decode(LinkFrame.read(in));
        second.getOutputStream().write(new AuthResponse(recorded).toFrame(0).encode());
        second.getOutputStream().write(new LinkMessage.Write("vol-s", 0, true, ByteBuffer.wrap(new byte[4096])).toFrame(1).encode());
        LinkMessage answer = LinkMessage.decode(LinkFrame.read(in));
        assertThat(fresh.nonce()).isNotEqualTo(clientNonce);
        assertThat(answer).isInstanceOf(LinkMessage.Error.class);
        assertThat(((LinkMessage.Error) answer).status()).isEqualTo(LinkStatus.AUTH_FAILED);
        assertThat(LinkFixture.sha256(secondary.metadata().path())).isEqualTo(LinkFixture.sha256(emptyImage()));
    }

    @Test
    void connectionsPastTheUnauthenticatedCapAreRefusedWithAnErrorAndHonestClientsGetInOnceSlotsFree() throws Exception {
        server = LinkServer.start(new LinkServerConfig("site-b", "127.0.0.1", 0, SECRET, Duration.ofSeconds(30),
                Duration.ofSeconds(60)).withMaxUnauthenticated(2), fixture);
        Socket idle1 = connect();
        connect();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.unauthenticatedCount() == 2);
        Socket third = connect();
        third.setSoTimeout(5_000);
        LinkMessage m = LinkMessage.decode(LinkFrame.read(new BufferedInputStream(third.getInputStream())));
        assertThat(m).isInstanceOf(LinkMessage.Error.class);
        assertThat(((LinkMessage.Error) m).message()).contains("too many unauthenticated");
        assertThat(server.connectionCount()).isEqualTo(2);
        idle1.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.unauthenticatedCount() == 1);
        honestHandshake();
    }

    @Test
    void theAcceptLoopSurvivesARuntimeExceptionAndAnOutOfMemoryErrorFromAccept() throws Exception {
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        java.net.ServerSocket failing = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()) {
            @Override
            public Socket accept() throws IOException {
                switch (failures.getAndIncrement()) {
                    case 0 -> throw new IllegalStateException("injected: accept blew up");
                    case 1 -> throw new OutOfMemoryError("injected: Java heap space");
                    default -> {
                        return super.accept();
                    }
                }
            }
        };
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), fixture, failing);
        honestHandshake();
        assertThat(failures.get()).isGreaterThanOrEqualTo(3);
    }

    private Path emptyImage() throws IOException {
        Path p = dir.resolve("empty.img");
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.allocate(1), LinkFixture.SIZE - 1);
        }
        return p;
    }

    /** Reads until the peer closes (true) or the read times out (false). */
    private static boolean drainUntilClosed(InputStream in) throws IOException {
        byte[] sink = new byte[4096];
        try {
            while (in.read(sink) >= 0) {
                // discard
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        sockets.add(s);
        return s;
    }

    /** The honest client still gets through. */
    private void honestHandshake() throws Exception {
        try (Socket s = connect()) {
            s.setSoTimeout(10_000);
            LinkHandshake.run("site-a", SECRET, List.of(LinkFixture.primaryInfo("vol-s")),
                    new BufferedInputStream(s.getInputStream()), s.getOutputStream());
        }
    }
}
