package io.blockrep.producer.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.FatalException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The restart policy of the publishers' loops, stepped with a manual clock: no thread, no sleep. */
class RestartingLoopTest {
    /** A clock the test (and the scripted owner's waits) move by hand. */
    private static final class ManualClock extends Clock {
        long millis;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    /** Records resets and waits; a wait moves the clock by its length plus {@code runMillis} of the next run. */
    private static final class ScriptedOwner implements RestartingLoop.Owner {
        final ManualClock clock;
        final List<Throwable> resets = new ArrayList<>();
        final List<Long> waits = new ArrayList<>();
        Throwable stopped;
        long runMillis = 10;
        boolean closing;

        ScriptedOwner(ManualClock clock) {
            this.clock = clock;
        }

        @Override
        public void reset(Throwable cause) {
            resets.add(cause);
        }

        @Override
        public void stopped(Throwable cause) {
            stopped = cause;
        }

        @Override
        public boolean await(long millis) {
            waits.add(millis);
            clock.millis += millis + runMillis;
            return !closing;
        }
    }

    /** A body that throws {@code failures} times, then returns (the publisher stopped). */
    private static RestartingLoop.Body failing(int failures) {
        int[] left = {failures};
        return () -> {
            if (left[0]-- > 0) {
                throw new IllegalStateException("failure " + left[0]);
            }
        };
    }

    @Test
    void restartsWithBackoffDoublingFromHalfASecondUpToAMinute() {
        ManualClock clock = new ManualClock();
        ScriptedOwner owner = new ScriptedOwner(clock);
        RestartingLoop loop = new RestartingLoop("test", clock, owner);
        assertThat(loop.stats()).isEqualTo(PublisherStats.Restarts.NONE);

        loop.run(failing(10));

        assertThat(owner.waits).containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L);
        assertThat(owner.resets).hasSize(10);
        assertThat(owner.stopped).isNull();
        PublisherStats.Restarts stats = loop.stats();
        assertThat(stats.count()).isEqualTo(10);
        assertThat(stats.attempt()).isEqualTo(10);
        assertThat(stats.inProgress()).isTrue();
        assertThat(stats.lastCrash()).get().asString().contains("failure 0");
        loop.recovered();
        assertThat(loop.stats().inProgress()).isFalse();
        assertThat(RestartingLoop.delayOf(Integer.MAX_VALUE)).isEqualTo(60_000);
    }

    @Test
    void aLoopThatRanLongerThanTheResetIntervalStartsAgainAtAttemptOne() {
        ManualClock clock = new ManualClock();
        ScriptedOwner owner = new ScriptedOwner(clock);
        RestartingLoop loop = new RestartingLoop("test", clock, owner);
        owner.runMillis = RestartingLoop.RESET.toMillis() + 1;
        loop.run(failing(3));
        assertThat(owner.waits).containsExactly(500L, 500L, 500L);
        assertThat(loop.stats().attempt()).isEqualTo(1);
        assertThat(loop.stats().count()).isEqualTo(3);
    }

    @Test
    void aFatalFailureEndsTheLoopWithoutARestart() {
        ManualClock clock = new ManualClock();
        ScriptedOwner owner = new ScriptedOwner(clock);
        RestartingLoop loop = new RestartingLoop("test", clock, owner);
        FatalException fatal = new FatalException("topic blockrep.dirty now has 5 partitions");
        loop.run(() -> {
            throw fatal;
        });
        assertThat(owner.stopped).isSameAs(fatal);
        assertThat(owner.resets).isEmpty();
        assertThat(loop.stats().count()).isZero();
    }

    /** Issue #12, deliver 2: an OutOfMemoryError stopped the loop and was swallowed there; the process lived on without publishing. */
    @Test
    void aVirtualMachineErrorStopsTheLoopAndGoesOnToTheThreadsBackstop() {
        ManualClock clock = new ManualClock();
        ScriptedOwner owner = new ScriptedOwner(clock);
        RestartingLoop loop = new RestartingLoop("test", clock, owner);
        OutOfMemoryError oom = new OutOfMemoryError("injected");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> loop.run(() -> {
            throw oom;
        })).isSameAs(oom);
        assertThat(owner.stopped).isSameAs(oom);
        assertThat(owner.resets).isEmpty();
    }

    @Test
    void closingDuringTheBackoffEndsTheLoop() {
        ManualClock clock = new ManualClock();
        ScriptedOwner owner = new ScriptedOwner(clock);
        owner.closing = true;
        RestartingLoop loop = new RestartingLoop("test", clock, owner);
        loop.run(failing(5));
        assertThat(owner.waits).containsExactly(500L);
    }

    @Test
    void statusSaysWhatThePublisherIsDoing() {
        IllegalStateException crash = new IllegalStateException("boom");
        PublisherStats.Restarts restarting = new PublisherStats.Restarts(3, 2, true, Optional.of(crash));
        assertThat(stats(false, Optional.of(crash), false, restarting).summary())
                .isEqualTo("RESTARTING (attempt 2, last error java.lang.IllegalStateException: boom)");
        PublisherStats.Restarts recovered = new PublisherStats.Restarts(3, 2, false, Optional.of(crash));
        assertThat(stats(true, Optional.empty(), false, recovered).summary()).isEqualTo("REACHABLE");
        assertThat(stats(false, Optional.empty(), false, PublisherStats.Restarts.NONE).summary()).isEqualTo("UNREACHABLE");
        assertThat(stats(false, Optional.of(new FatalException("topic changed")), true, restarting).summary())
                .isEqualTo("FAILED: topic changed");
    }

    private static PublisherStats stats(boolean reachable, Optional<Throwable> error, boolean fatal, PublisherStats.Restarts r) {
        return new PublisherStats(reachable, 0, 0, 0, 0, error, fatal, r);
    }
}
