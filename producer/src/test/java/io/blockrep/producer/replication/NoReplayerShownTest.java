package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue #12, seen 4: with the replayer gone, a volume sat RESYNCING with no progress and no reason
 * shown. The volume now knows since when its oldest announced era waits (the facility's status shows
 * "waiting for a replayer for N s" from it).
 */
class NoReplayerShownTest extends ScenarioSupport {
    @Test
    void aResyncKnowsSinceWhenItsErasWaitForAReplayer() {
        ModeHarness h = harness(true);
        assertThat(h.volume.waitingForReplaySinceMillis()).isEqualTo(-1);
        h.write(4);
        h.log.completeAllMarks();
        h.io.runAll();
        long announced = h.timer.millis();
        h.linkUp();
        assertThat(h.volume.mode()).isEqualTo(Mode.RESYNCING);
        h.timer.advance(30_000);
        assertThat(h.volume.waitingForReplaySinceMillis()).as("waiting since the era's marker went out").isEqualTo(announced);
        h.replay();
        assertThat(h.volume.waitingForReplaySinceMillis()).as("nothing waits once the era is replayed").isEqualTo(-1);
    }
}
