package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Found by {@link ModeMachineModelTest} before the fix: a link restored while a demotion held the
 * writes was ignored; the demotion then timed out, the volume stayed PRIMARY in LOGGING with the link
 * up, and nothing ever resynced it.
 */
class RestoreDuringDemotionHoldTest extends ScenarioSupport {
    @Test
    void aDemotionThatTimesOutLetsTheRestoreGoOn() {
        ModeHarness h = harness(true);
        h.write(2); // in flight: the demotion waits for it
        h.demote();
        h.linkUp(); // held by the demotion
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        assertThat(h.timer.fireNext()).as("the demotion's hold is bounded").isTrue();
        h.log.completeAllMarks();
        h.io.runAll();
        assertThat(h.volume.mode()).as("the restore goes on after the hold").isEqualTo(Mode.RESYNCING);
        h.check();
        h.quiesce();
    }
}
