package io.blockrep.producer.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.InitialSync;
import io.blockrep.producer.control.VolumeStatus.InitialSyncProgress;
import io.blockrep.producer.control.VolumeStatus.ReplayProgress;
import java.util.List;
import org.junit.jupiter.api.Test;

class InitialSyncProgressTest {
    private static final int R = 64 << 10;

    @Test
    void noneIsAbsentAndPendingHasNoFiguresYet() {
        assertThat(InitialSyncProgress.of(InitialSync.NONE, 5, R, List.of(), null)).isNull();
        assertThat(InitialSyncProgress.of(InitialSync.PENDING, 0, R, List.of(), null))
                .isEqualTo(new InitialSyncProgress("PENDING", 0, 0, 0, null));
    }

    @Test
    void runningCountsDroppedErasAndTheReplayersBytesOfThePendingEra() {
        // 200 regions marked, all still dirty in pending era 7; the replayer copied 50 regions' worth at 1 region/s.
        ReplayProgress replay = new ReplayProgress(7, 50L * R, 200L * R, 0, R, 0);
        assertThat(InitialSyncProgress.of(InitialSync.running(200), 200, R, List.of(7L), replay))
                .isEqualTo(new InitialSyncProgress("RUNNING", 200, 150, 25, 150L));
        // Before any report: nothing copied, no ETA.
        assertThat(InitialSyncProgress.of(InitialSync.running(200), 200, R, List.of(7L), null))
                .isEqualTo(new InitialSyncProgress("RUNNING", 200, 200, 0, null));
        // A finished report of an era already dropped does not count twice.
        ReplayProgress done = new ReplayProgress(7, 200L * R, 200L * R, 0, R, 0);
        assertThat(InitialSyncProgress.of(InitialSync.running(200), 10, R, List.of(8L), done).remainingRegions()).isEqualTo(10);
        // New writes may dirty more regions than the sync marked: never below 0 %.
        assertThat(InitialSyncProgress.of(InitialSync.running(200), 500, R, List.of(), null).percent()).isZero();
    }
}
