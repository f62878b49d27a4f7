package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue #16 item 2: a mirrored write is sent to the peer before (not after) the local write with
 * its FUA fsync runs, so the two copies overlap; the client is acknowledged only when both are done,
 * and the hot bit is durable before either copy is issued.
 */
class MirroredWriteIssuedInParallelTest extends ScenarioSupport {
    @Test
    void thePeerWriteIsIssuedBeforeTheLocalWriteRuns() {
        ModeHarness h = replicating();
        List<Long> localAtIssue = new ArrayList<>();
        h.replica.onWrite = offset -> localAtIssue.add(h.sourceVersion((int) (offset / ModeHarness.REGION)));

        h.write(5);
        assertThat(h.replica.pendingOps()).as("nothing issued before the hot bit is durable").isZero();
        assertThat(h.sourceVersion(5)).as("nor written locally").isZero();
        h.log.completeAllMarks(); // hot
        h.io.runAll();

        assertThat(localAtIssue).as("the local copy did not yet hold the write when the peer's was issued").containsExactly(0L);
        assertThat(h.sourceVersion(5)).as("the local write ran as well").isPositive();
        assertThat(h.acked(5)).as("no ack before the peer's copy").isZero();
        h.replica.succeedAll(h.random);
        h.io.runAll();
        assertThat(h.acked(5)).isEqualTo(h.sourceVersion(5));
        h.check();
    }
}
