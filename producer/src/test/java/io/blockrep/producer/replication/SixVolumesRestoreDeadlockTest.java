package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue #11, seen 3: "Deadlock with six volumes". Every restore blocked a thread of the four-thread
 * I/O pool in drainInFlight until the volume's writes in flight completed, while those writes needed
 * the same pool to continue after their marks; with six volumes all four threads waited for ever.
 * And the cutover's drain ran before its hold timer was armed, so it could wait for ever too.
 */
class SixVolumesRestoreDeadlockTest extends ScenarioSupport {
    @Test
    void aRestoreNeverWaitsForWritesInFlight() {
        List<ModeHarness> volumes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ModeHarness h = harness(true);
            h.write(i); // a logged write whose mark is not durable: in flight
            volumes.add(h);
        }
        // On the old code this call did not return until the write completed, which needed the thread it held.
        assertThatCode(() -> volumes.forEach(ModeHarness::linkUp)).doesNotThrowAnyException();
        volumes.forEach(h -> assertThat(h.idle()).isFalse());
        for (ModeHarness h : volumes) {
            h.log.completeAllMarks();
            h.io.runAll();
            h.check();
            assertThat(h.idle()).isTrue();
            assertThat(h.volume.mode()).isEqualTo(Mode.RESYNCING); // the write made a region dirty during the drain
            h.quiesce();
        }
    }

    @Test
    void theCutoverHoldTimerCoversItsDrain() {
        ModeHarness h = harness(true);
        h.write(0);
        h.log.completeAllMarks();
        h.io.runAll();
        h.linkUp(); // dirty: RESYNCING, era closed
        assertThat(h.volume.mode()).isEqualTo(Mode.RESYNCING);
        h.write(1); // logged in the open era; its mark stays pending: in flight
        h.replay(); // the open era is small: CUTOVER, holding writes, draining
        assertThat(h.volume.mode()).isEqualTo(Mode.CUTOVER);
        h.write(2); // held
        assertThat(h.timer.fireNext()).as("the hold timer is armed before the drain ends").isTrue();
        assertThat(h.volume.mode()).as("hold exceeded: writes released, resync goes on").isEqualTo(Mode.RESYNCING);
        h.io.runAll();
        h.log.completeAllMarks();
        h.io.runAll();
        assertThat(h.idle()).isTrue();
        h.check();
        assertThat(Duration.ofMillis(h.volume.lastHoldMillis())).isEqualTo(Duration.ofMillis(2000));
        h.quiesce();
    }
}
