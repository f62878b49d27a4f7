package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12 observations 1 and 2 at the tracker level (the facility publishes what the tracker holds, so
 * a bit lost here is a region lost for the replayer too when Kafka does not have it yet).
 */
class LocalStateRegressionTest {
    static final int R = 65536;
    static final VolumeMetadata META = new VolumeMetadata("vol", Path.of("/dev/null"), new RegionGeometry(4096L * R, R), Role.PRIMARY);
    @TempDir
    Path dir;

    /** Observation 1: zeroing two bytes of a bit page made regions 1120..1135 vanish; the facility came back "in sync". */
    @Test
    void twoFlippedBytesInABitPageDoNotLoseDirtyRegions() throws IOException {
        try (DirtyTracker t = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE)) {
            t.markWrite(1120L * R, 16L * R).toCompletableFuture().join();
            t.markWrite(4000L * R, 1).toCompletableFuture().join();
        }
        Path bitmap = dir.resolve("dirty-1.bitmap");
        long word = 1120 / 64; // regions 1120..1135 are bytes 4 and 5 of word 17 of the first bit page
        try (RandomAccessFile raf = new RandomAccessFile(bitmap.toFile(), "rw")) {
            raf.seek(4096 + word * 8 + 4);
            raf.write(new byte[2]);
        }
        try (DirtyTracker t = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE)) {
            for (long r = 1120; r <= 1135; r++) {
                assertThat(t.dirtyRegions(1).contains((int) r)).as("region %d", r).isTrue();
            }
            assertThat(t.dirtyRegions(1).contains(4000)).isTrue();
        }
    }

    /** Observation 2: kill -9 with 16 hot regions, activity.bitmap deleted, start: dirty 0 and no warning. */
    @Test
    void deletedActivityLogAfterACrashMakesEveryRegionDirty() throws IOException {
        DirtyTracker t = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE);
        t.markHot(100L * R, 16L * R).toCompletableFuture().join();
        t.abandon(); // kill -9 while replicating
        Files.delete(dir.resolve(DirtyTracker.ACTIVITY_FILE));
        try (DirtyTracker after = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE)) {
            assertThat(after.dirtyRegions(1).getLongCardinality()).isEqualTo(META.geometry().regionCount());
        }
    }
}
