package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.producer.replication.ScriptedReplica.Outcome;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Async REPLICATING, stepped by hand (scripted replica, scripted dirty log, manual clock): the
 * client hears back once the local write is done, the copies reach the peer in order, a FLUSH is a
 * barrier, and whatever drops the queue (overflow, lag, a failed send) leaves every queued region
 * dirty before the volume is in LOGGING; queued regions stay hot until the peer acknowledges them.
 */
class AsyncMirroringTest extends ScenarioSupport {
    private static final int R = ModeHarness.REGION;

    private ModeHarness async(long queueBytes, Duration maxLag) {
        return replicating(ReplicatedVolume.MirrorPolicy.async(queueBytes, maxLag));
    }

    /** Runs marks and I/O tasks until none is left (the peer answers only when the test says so). */
    private static void drive(ModeHarness h) {
        while (h.log.pendingMarks() > 0 || h.io.queued() > 0) {
            h.log.completeAllMarks();
            h.io.runAll();
        }
    }

    @Test
    void theClientIsAcknowledgedBeforeThePeerAndOverlappingWritesReachItInOrder() {
        ModeHarness h = async(1 << 20, Duration.ZERO);
        h.write(3);
        drive(h);
        long v1 = h.acked(3);
        assertThat(v1).as("acknowledged with the peer's copy still pending").isPositive();
        h.write(3);
        drive(h);
        long v2 = h.acked(3);
        assertThat(v2).isGreaterThan(v1);
        assertThat(h.replica.pending()).as("the second copy waits for the first (they overlap)").containsExactly(3L * R);
        assertThat(h.volume.asyncStats().lagWrites()).isEqualTo(2);
        assertThat(h.volume.asyncStats().lagBytes()).isEqualTo(2L * R);
        h.check();

        h.replica.completeFirst(Outcome.SUCCEED);
        drive(h);
        assertThat(h.replica.version(3)).isEqualTo(v1);
        assertThat(h.replica.pending()).containsExactly(3L * R);
        h.replica.completeFirst(Outcome.SUCCEED);
        drive(h);
        assertThat(h.replica.version(3)).isEqualTo(v2);
        assertThat(h.volume.asyncStats().lagWrites()).isZero();
        assertThat(h.volume.asyncStats().highWaterBytes()).isEqualTo(2L * R);
        assertThat(h.volume.mode()).isEqualTo(Mode.REPLICATING);
        assertThat(h.log.dirtyRegionCount()).isZero();
        h.check();
        h.quiesce();
    }

    @Test
    void aFlushIsABarrierThePeerFlushesAfterWhatCameBeforeAndBeforeWhatCameAfter() {
        ModeHarness h = async(1 << 20, Duration.ZERO);
        h.write(1);
        h.write(2);
        drive(h);
        assertThat(h.replica.pending()).containsExactly(1L * R, 2L * R);
        CompletableFuture<Void> flushed = h.volume.flush().toCompletableFuture();
        drive(h);
        assertThat(flushed).as("the client's FLUSH waits for the local flush only").isCompleted();
        h.write(4);
        drive(h);
        assertThat(h.acked(4)).isPositive();
        assertThat(h.replica.pending()).as("the flush waits for the writes before it, the write after waits for the flush")
                .containsExactly(1L * R, 2L * R);
        h.replica.completeFirst(Outcome.SUCCEED);
        drive(h);
        assertThat(h.replica.pending()).containsExactly(2L * R);
        h.replica.completeFirst(Outcome.SUCCEED);
        drive(h);
        assertThat(h.replica.pending()).containsExactly(-1L);
        h.replica.completeFirst(Outcome.SUCCEED);
        drive(h);
        assertThat(h.replica.pending()).containsExactly(4L * R);
        h.check();
        h.quiesce();
    }

    @Test
    void aFullQueueMarksEveryQueuedRegionDirtyAndGoesToLoggingWithoutBlockingTheWriter() {
        ModeHarness h = async(3L * R, Duration.ZERO);
        for (int r = 0; r < 3; r++) {
            h.write(r);
        }
        drive(h);
        assertThat(h.replica.pending()).hasSize(3);
        h.write(5); // does not fit
        drive(h);
        assertThat(h.acked(5)).as("the writer is acknowledged all the same").isPositive();
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        assertThat(h.log.durableDirty().toArray()).containsExactly(0, 1, 2, 5);
        assertThat(h.volume.asyncStats().overflows()).isEqualTo(1);
        assertThat(h.volume.asyncStats().lagBytes()).isZero();
        h.check();
        h.quiesce(); // the normal resync brings it back, replica = source
        assertThat(h.volume.asyncStats().overflows()).isEqualTo(1);
    }

    @Test
    void aFailedSendMarksTheWholeQueueDirtyNotOnlyTheWriteThatFailed() {
        ModeHarness h = async(1 << 20, Duration.ZERO);
        h.write(7);
        h.write(8);
        drive(h);
        h.replica.completeFirst(Outcome.TIMEOUT);
        drive(h);
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        assertThat(h.log.durableDirty().toArray()).containsExactly(7, 8);
        assertThat(h.volume.asyncStats().overflows()).isZero();
        assertThat(h.volume.asyncStats().drops()).isEqualTo(1);
        h.check();
        h.quiesce();
    }

    @Test
    void aCopyOlderThanMaxLagDropsTheQueue() {
        ModeHarness h = async(1 << 20, Duration.ofSeconds(5));
        h.write(9);
        drive(h);
        h.timer.advance(4_000);
        assertThat(h.volume.asyncStats().lagSeconds()).isEqualTo(4.0);
        while (h.volume.mode() == Mode.REPLICATING && h.timer.fireNext()) {
            drive(h);
        }
        drive(h);
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        assertThat(h.volume.modeReason()).contains("max.lag");
        assertThat(h.log.durableDirty().toArray()).containsExactly(9);
        h.check();
        h.quiesce();
    }

    /**
     * A primary crash with a full queue: the queued writes' regions are durably hot before the client
     * hears back and stay hot (an activity checkpoint cannot cool them) until the peer acknowledges
     * them, so recovery (hot becomes dirty) covers every acknowledged write the peer may lack.
     */
    @Test
    void queuedRegionsStayHotUntilAcknowledgedSoACrashWithAFullQueueLeavesThemDirty() throws Exception {
        ModeHarness h = async(4L * R, Duration.ZERO);
        for (int r = 0; r < 4; r++) {
            h.write(r);
        }
        drive(h);
        h.replica.completeFirst(Outcome.SUCCEED); // region 0's copy is acknowledged
        drive(h);
        h.replica.flushAtOnce = true;
        h.volume.checkpointActivity(1000);
        assertThat(h.log.hotRegions().toArray()).as("only the acknowledged copy's region cools").containsExactly(1, 2, 3);
        for (int r = 1; r < 4; r++) {
            assertThat(h.replica.version(r)).isLessThan(h.acked(r));
        }
        // crash now: recovery makes every hot region dirty, which covers all the unacknowledged copies
        org.roaringbitmap.RoaringBitmap afterCrash = org.roaringbitmap.RoaringBitmap.or(h.log.hotRegions(), h.log.durableDirty());
        for (int r = 0; r < 4; r++) {
            assertThat(h.replica.version(r) >= h.acked(r) || afterCrash.contains(r)).as("region %d", r).isTrue();
        }
        h.replica.flushAtOnce = false;
        h.check();
        h.quiesce();
    }
}
