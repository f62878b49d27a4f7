package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.dirty.Crashes;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: mirrored writes marked their regions hot through the activity log directly, past the excluded
 * ranges, so after an unclean stop a scratch area came back dirty and was copied.
 */
class MirroredWritesInExcludedRangesTest {
    private static final int REGION = 64 << 10;
    private static final ExcludedRanges SCRATCH = ExcludedRanges.parse(2L * REGION + "-" + 4L * REGION); // regions 2, 3

    @TempDir
    Path dir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void aMirroredWriteInsideAnExcludedRangeIsNotHotAndNotDirtyAfterACrash() throws Exception {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol", null, 16L * REGION, REGION, Role.PRIMARY);
        DirtyTracker tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", SCRATCH, 1);
        try (Volume v = Volume.open(meta, false)) {
            ReplicatedVolume rv = new ReplicatedVolume(new VolumeHandle(v, meta, store), tracker,
                    new ReplicatedVolumeGenerationTest.ScriptedSink(), VolumeObserver.NONE,
                    new ReplicatedVolume.Services("site-a", Clock.systemUTC(), Runnable::run, timer, ReplicatedVolume.ResyncPolicy.DEFAULT));
            rv.linkRestored(new PeerView("site-b", true, LinkStatus.OK, "",
                    new VolumeInfo("vol", 16L * REGION, REGION, Role.SECONDARY, GenerationHistory.created().entries())));
            assertThat(rv.mode()).isEqualTo(Mode.REPLICATING);

            rv.write(2L * REGION + 4096, ByteBuffer.allocate(4096), false).toCompletableFuture().join(); // scratch
            rv.write(6L * REGION, ByteBuffer.allocate(4096), false).toCompletableFuture().join();
            rv.write(4L * REGION - 4096, ByteBuffer.allocate(8192), false).toCompletableFuture().join(); // scratch, then region 4

            assertThat(tracker.activity().hotRegions().toArray()).containsExactly(4, 6);
            Crashes.abandon(tracker);
        }
        try (DirtyTracker after = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", SCRATCH, 1)) {
            assertThat(after.dirtyRegions(after.openEra()).toArray()).containsExactly(4, 6);
        }
    }
}
