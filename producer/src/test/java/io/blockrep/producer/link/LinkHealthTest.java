package io.blockrep.producer.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.SharedSecret;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Steps the link's time-based decisions with made-up timestamps; no sockets, no waiting. */
class LinkHealthTest {
    private static final long MS = 1_000_000L;
    private final LinkConfig config = new LinkConfig("site-a", new HostPort("127.0.0.1", 9), SharedSecret.of("0123456789abcdef"),
            Duration.ofMillis(100), Duration.ofMillis(20), 3, Duration.ofMillis(50), Duration.ofMillis(10),
            Duration.ofMillis(80), Duration.ofMillis(200), 64L << 20);

    @Test
    void firstPingIsDueAtOnceThenEveryHeartbeat() {
        LinkHealth h = new LinkHealth(config, 1_000 * MS);
        assertThat(h.pingDue(1_000 * MS)).isTrue();
        h.pingSent(1_000 * MS);
        assertThat(h.pingDue(1_019 * MS)).isFalse();
        assertThat(h.pingDue(1_020 * MS)).isTrue();
    }

    @Test
    void silenceBeyondMissedHeartbeatsIsAFailure() {
        LinkHealth h = new LinkHealth(config, 0);
        assertThat(h.failure(60 * MS, Long.MIN_VALUE)).isNull();
        assertThat(h.failure(61 * MS, Long.MIN_VALUE)).contains("no frame from the peer");
        h.frameReceived(50 * MS);
        assertThat(h.failure(110 * MS, Long.MIN_VALUE)).isNull();
    }

    @Test
    void anUnackedRequestOlderThanTheAckTimeoutIsAFailureEvenWhilePongsArrive() {
        LinkHealth h = new LinkHealth(config, 0);
        h.frameReceived(150 * MS);
        assertThat(h.failure(150 * MS, 50 * MS)).isNull();
        assertThat(h.failure(151 * MS, 50 * MS)).contains("no ACK");
    }

    @Test
    void dampingNeedsTheIntervalAndAnAnswerFromThePeer() {
        LinkHealth h = new LinkHealth(config, 0);
        assertThat(h.dampingPassed(500 * MS)).as("never heard from the peer").isFalse();
        h.frameReceived(10 * MS);
        assertThat(h.dampingPassed(199 * MS)).isFalse();
        assertThat(h.dampingPassed(200 * MS)).isTrue();
    }

    @Test
    void backoffDoublesUpToTheCapAndResets() {
        Backoff b = new Backoff(Duration.ofMillis(10), Duration.ofMillis(80));
        assertThat(new long[] {b.nextNanos(), b.nextNanos(), b.nextNanos(), b.nextNanos(), b.nextNanos()})
                .containsExactly(10 * MS, 20 * MS, 40 * MS, 80 * MS, 80 * MS);
        b.reset();
        assertThat(b.nextNanos()).isEqualTo(10 * MS);
    }

    @Test
    void configReportsEveryProblemAtOnce() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LinkConfig("Bad!", new HostPort("h", 0), null,
                        Duration.ZERO, Duration.ofMillis(1), 0, Duration.ofMillis(1), Duration.ofMillis(5),
                        Duration.ofMillis(1), Duration.ofMillis(1), 1))
                .isInstanceOf(io.blockrep.common.InvalidInputException.class)
                .satisfies(e -> assertThat(((io.blockrep.common.InvalidInputException) e).problems()).hasSize(7));
    }
}
