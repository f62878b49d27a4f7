package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue #11, seen 2: "A secondary whose disk fails keeps the primary REPLICATING". A mirrored write
 * the peer answers with an I/O error (the link itself stays up) must take the volume out of
 * REPLICATING before the write is acknowledged, and the volume must resync on its own once it can.
 */
class SecondaryDiskFailureKeptReplicatingTest extends ScenarioSupport {
    @Test
    void aWriteThePeerCouldNotStoreLeavesReplicatingBeforeItsAck() {
        ModeHarness h = replicating();
        h.write(5);
        h.log.completeAllMarks(); // hot
        h.io.runAll();
        h.replica.complete(h.random, ScriptedReplica.Outcome.IO_ERROR);
        assertThat(h.volume.mode()).as("left REPLICATING before the ack").isEqualTo(Mode.LOGGING);
        assertThat(h.acked(5)).as("not acknowledged before its region is durable").isZero();
        h.log.completeAllMarks();
        h.io.runAll();
        assertThat(h.acked(5)).isPositive();
        assertThat(h.log.durableDirty().contains(5)).isTrue();
        h.check();
    }

    @Test
    void withTheLinkStillUpTheVolumeResyncsAfterTheRetryDelay() {
        ModeHarness h = replicating();
        h.write(7);
        h.log.completeAllMarks();
        h.io.runAll();
        h.replica.complete(h.random, ScriptedReplica.Outcome.REFUSED);
        h.log.completeAllMarks();
        h.io.runAll();
        assertThat(h.volume.mode()).isEqualTo(Mode.LOGGING);
        assertThat(h.timer.fireNext()).as("a retry is scheduled").isTrue();
        assertThat(h.volume.mode()).isEqualTo(Mode.RESYNCING);
        h.quiesce(); // the replay copies region 7; replica = source
    }
}
