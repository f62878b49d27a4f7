package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.testkit.net.LinkProxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Primary and secondary over real sockets, with {@link LinkProxy} between them to cut or blackhole the path. */
class ReplicationLinkIT {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    LinkFixture secondarySide;
    LinkFixture primarySide;
    LinkServer server;
    LinkProxy proxy;
    ReplicationLink link;
    final Events events = new Events();

    @BeforeEach
    void start() {
        secondarySide = new LinkFixture(dir.resolve("b"));
        secondarySide.volume("vol-1", Role.SECONDARY);
        primarySide = new LinkFixture(dir.resolve("a"));
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), secondarySide);
        proxy = new LinkProxy("127.0.0.1", server.port());
    }

    @AfterEach
    void stop() throws Exception {
        LinkFixture.closeAll(link, proxy, server, secondarySide, primarySide);
    }

    /** Tens-of-ms timing: heartbeat 50 ms x 3, ack timeout 400 ms, backoff 10..100 ms. */
    private LinkConfig config(Duration damping, Duration ackTimeout, Duration heartbeat) {
        return new LinkConfig("site-a", new HostPort("127.0.0.1", proxy.port()), SECRET, ackTimeout, heartbeat, 3,
                Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofMillis(100), damping, 64L << 20);
    }

    private void startLink(LinkConfig config) {
        link = new ReplicationLink(config, List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
    }

    private void awaitRestored(int count) {
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= count);
    }

    @Test
    void randomWritesLandByteIdenticallyOnTheSecondary() throws Exception {
        Volume source = primarySide.volume("vol-1", Role.PRIMARY);
        startLink(config(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofMillis(50)));
        awaitRestored(1);
        LinkFixture.writeRandomly(source, link, "vol-1", 42, 300);
        Path replica = secondarySide.find("vol-1").orElseThrow().volume().metadata().path();
        assertThat(LinkFixture.sha256(replica)).isEqualTo(LinkFixture.sha256(source.metadata().path()));
        assertThat(events.down).isEmpty();
    }

    @Test
    void cutFailsPendingAndNewWritesPromptlyAndReportsLinkDown() {
        // Long ack and heartbeat limits: only the cut itself can take the link down quickly.
        startLink(config(Duration.ofMillis(50), Duration.ofSeconds(30), Duration.ofSeconds(5)));
        awaitRestored(1);
        proxy.blackhole();
        CompletableFuture<Void> pending = link.write("vol-1", 0, ByteBuffer.wrap(new byte[4096]), false).toCompletableFuture();
        assertThat(pending).isNotDone();
        long t0 = System.nanoTime();
        proxy.cut();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(pending::isDone);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(pending).isCompletedExceptionally();
        assertThat(cause(pending)).isInstanceOf(LinkDownException.class);
        CompletableFuture<Void> next = link.write("vol-1", 0, ByteBuffer.wrap(new byte[512]), false).toCompletableFuture();
        assertThat(next).isCompletedExceptionally();
        assertThat(cause(next)).isInstanceOf(LinkDownException.class);
        await().atMost(BOUND).until(() -> events.down.size() == 1);
    }

    @Test
    void blackholeIsDetectedByHeartbeatsWithinTheWindow() {
        startLink(config(Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofMillis(50)));
        awaitRestored(1);
        proxy.blackhole();
        long t0 = System.nanoTime();
        CompletableFuture<Void> pending = link.write("vol-1", 0, ByteBuffer.wrap(new byte[4096]), false).toCompletableFuture();
        // Window: max(ack timeout 400 ms, silence 150 ms) plus a tick; generous bound for a loaded machine.
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(5)).until(() -> events.down.size() == 1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        await().atMost(BOUND).until(pending::isDone);
        assertThat(cause(pending)).isInstanceOf(LinkDownException.class);
        assertThat(events.down.get(0)).containsAnyOf("no frame from the peer", "no ACK");
    }

    @Test
    void restoreFiresOnlyAfterTheDampingInterval() throws Exception {
        Duration damping = Duration.ofMillis(600);
        startLink(config(damping, Duration.ofMillis(400), Duration.ofMillis(50)));
        awaitRestored(1);
        proxy.cut();
        await().atMost(BOUND).until(() -> events.down.size() == 1);
        long t0 = System.nanoTime();
        proxy.restore();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> link.state() == ReplicationLink.State.PROBATION);
        assertThat(events.restored).hasSize(1);
        awaitRestored(2);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(damping);
        link.write("vol-1", 0, ByteBuffer.wrap(new byte[512]), true).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aFlappingLinkFiresNoRestoredEventUntilItStaysUp() {
        startLink(config(Duration.ofSeconds(3), Duration.ofMillis(400), Duration.ofMillis(50)));
        for (int i = 0; i < 5; i++) {
            await().atMost(BOUND).pollInterval(Duration.ofMillis(2)).until(() -> link.state() == ReplicationLink.State.PROBATION);
            proxy.cut();
            await().atMost(BOUND).pollInterval(Duration.ofMillis(2)).until(() -> link.state() == ReplicationLink.State.CONNECTING);
            proxy.restore();
        }
        assertThat(events.restored).as("restored events while flapping").isEmpty();
        assertThat(events.down).as("down events for a link never restored").isEmpty();
        awaitRestored(1);
        assertThat(events.restored).hasSize(1);
    }

    private static Throwable cause(CompletableFuture<?> f) {
        return f.handle((v, e) -> e).join();
    }

    static final class Events implements LinkListener {
        final List<Long> restored = new CopyOnWriteArrayList<>();
        final List<String> down = new CopyOnWriteArrayList<>();

        @Override
        public void onLinkRestored(io.blockrep.common.link.LinkHandshake.Outcome handshake) {
            restored.add(System.nanoTime());
        }

        @Override
        public void onLinkDown(String reason) {
            down.add(reason);
        }
    }
}
