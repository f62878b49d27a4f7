package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Found by {@link ModeMachineModelTest} (seed 104374970613761 before the fix): a logged write marks
 * its region durably in era N and writes the local copy after. When era N closed in between, its
 * marker was announced at once: the replayer copied the region from the source without the write,
 * the era was dropped, and the write, acknowledged right after, was neither on the replica nor dirty.
 * An era is now announced only once every write admitted before its close has completed.
 */
class EraAnnouncedBeforeItsWritesLandedTest extends ScenarioSupport {
    @Test
    void anErasMarkerWaitsForTheLocalWritesOfItsMarks() {
        ModeHarness h = harness(true);
        h.write(0);
        h.log.completeAllMarks();
        h.io.runAll();
        h.write(14); // marked in the open era, not yet written locally
        h.linkUp(); // dirty: RESYNCING closes the era; the close makes the mark of region 14 durable
        assertThat(h.volume.mode()).isEqualTo(Mode.RESYNCING);
        assertThat(h.replay()).as("no marker yet: a write of the era has not landed locally").isFalse();
        h.io.runAll(); // the local write, the ack, then the announcement
        assertThat(h.acked(14)).isPositive();
        assertThat(h.replay()).isTrue();
        h.check();
        h.quiesce();
    }
}
