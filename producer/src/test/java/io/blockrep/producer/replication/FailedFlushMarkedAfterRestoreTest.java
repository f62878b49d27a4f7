package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Found by {@link ModeMachineModelTest} (seed 104374970615341 before the fix): a FLUSH whose peer half
 * failed marks the hot regions dirty, but it was not counted in flight, so a restore could drain,
 * enter REPLICATING, and then see those marks land: REPLICATING with a dirty region.
 */
class FailedFlushMarkedAfterRestoreTest extends ScenarioSupport {
    @Test
    void aRestoreWaitsForTheMarksOfAFailedFlush() {
        ModeHarness h = replicating();
        h.write(6);
        h.log.completeAllMarks(); // hot
        h.io.runAll();
        h.flush();
        h.linkDown(); // the pending write and flush fail: LOGGING; the flush marks the hot regions (not durable yet)
        h.linkUp();
        h.io.runAll();
        assertThat(h.volume.mode()).as("the flush's marks are in flight").isNotEqualTo(Mode.REPLICATING);
        h.log.completeAllMarks();
        h.io.runAll();
        h.check();
        h.quiesce();
    }
}
