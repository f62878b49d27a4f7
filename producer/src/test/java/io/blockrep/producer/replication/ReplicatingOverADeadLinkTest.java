package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue #11, seen 1: "REPLICATING over a dead link". linkRestored drained in-flight writes with
 * modeLock.wait(1), which released the lock; a linkDown arriving meanwhile found the volume still
 * LOGGING, did nothing, and the restore then switched to REPLICATING over the dead link, with the
 * regions logged meanwhile dirty and never copied.
 */
class ReplicatingOverADeadLinkTest extends ScenarioSupport {
    @Test
    void aLinkDownDuringTheRestoreDrainWinsOverTheRestore() {
        ModeHarness h = harness(true);
        h.write(3); // LOGGING: its mark is not durable yet, so it is in flight
        h.linkUp(); // nothing durable is dirty: the restore holds writes and waits for the drain
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        h.linkDown(); // the link fails while the restore waits
        h.log.completeAllMarks();
        h.io.runAll();
        h.check();
        assertThat(h.volume.mode()).as("the restore of a link that went down meanwhile must not apply").isEqualTo(Mode.LOGGING);
        assertThat(h.log.durableDirty().contains(3)).isTrue();
        h.quiesce();
    }

    @Test
    void writesHeldByAnAbandonedRestoreAreReleasedAndLogged() {
        ModeHarness h = harness(true);
        h.write(1);
        h.linkUp();
        h.write(2); // held: the restore drains
        h.linkDown();
        h.io.runAll(); // the release
        h.log.completeAllMarks();
        h.io.runAll();
        assertThat(h.idle()).isTrue();
        assertThat(h.log.durableDirty().contains(1) && h.log.durableDirty().contains(2)).isTrue();
        h.check();
        h.quiesce();
    }

    @Test
    void eventsOfOneVolumeRunInTheOrderTheyWereSubmitted() {
        StepExecutor pool = new StepExecutor();
        SerialExecutor serial = new SerialExecutor(pool, "test");
        StringBuilder order = new StringBuilder();
        serial.execute(() -> order.append("restored "));
        serial.execute(() -> order.append("down "));
        serial.execute(() -> order.append("restored"));
        pool.runAll();
        assertThat(order).hasToString("restored down restored");
    }
}
