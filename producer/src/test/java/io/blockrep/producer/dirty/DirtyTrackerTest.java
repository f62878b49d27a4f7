package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirtyTrackerTest {
    static final int R = 65536;
    static final VolumeMetadata META = new VolumeMetadata("vol", Path.of("/dev/null"),
            new RegionGeometry(64L * R, R), Role.PRIMARY);
    @TempDir
    Path dir;

    private DirtyTracker open() {
        return DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE);
    }

    private static MarkResult join(java.util.concurrent.CompletionStage<MarkResult> s) {
        return s.toCompletableFuture().join();
    }

    @Test
    void startsAtEraOneWithItsFiles() {
        try (DirtyTracker t = open()) {
            assertThat(t.openEra()).isEqualTo(1);
            assertThat(t.pendingEras()).isEmpty();
            assertThat(dir.resolve("dirty-1.bitmap")).exists();
            assertThat(dir.resolve(DirtyTracker.ERAS_FILE)).exists();
            assertThat(dir.resolve(DirtyTracker.ACTIVITY_FILE)).exists();
        }
    }

    @Test
    void markWriteMapsBytesToRegionsAndReportsFirstTouchesOnce() {
        try (DirtyTracker t = open()) {
            MarkResult first = join(t.markWrite(R - 512, 1024)); // regions 0 and 1
            assertThat(first.era()).isEqualTo(1);
            assertThat(first.firstTouches()).containsExactly(0L, 1L);
            assertThat(join(t.markWrite(R, 4096)).firstTouchCount()).isZero();
            assertThat(join(t.markWrite(0, 0)).firstTouchCount()).isZero();
            assertThat(t.dirtyRegions(1).toArray()).containsExactly(0, 1);
        }
    }

    @Test
    void excludedBytesAreNeverMarked() {
        ExcludedRanges ex = ExcludedRanges.parse("128K-256K");
        try (DirtyTracker t = DirtyTracker.open(dir, META, "site-a", ex)) {
            assertThat(join(t.markWrite(2L * R, 2L * R)).firstTouchCount()).isZero();
            assertThat(join(t.markWrite(R, 4L * R)).firstTouches()).containsExactly(1L, 4L);
            t.markHot(2L * R, R).toCompletableFuture().join();
            assertThat(t.activity().hotRegions().isEmpty()).isTrue();
        }
    }

    @Test
    void eraCloseAndDropLifecycle() {
        try (DirtyTracker t = open()) {
            join(t.markWrite(0, R));
            join(t.markWrite(5L * R, R));
            assertThat(t.closeEra()).isEqualTo(1);
            assertThat(t.openEra()).isEqualTo(2);
            MarkResult again = join(t.markWrite(0, R));
            assertThat(again.era()).isEqualTo(2);
            assertThat(again.firstTouches()).containsExactly(0L); // dirty again, in the new era
            assertThat(t.closeEra()).isEqualTo(2);
            assertThat(t.pendingEras()).containsExactly(1L, 2L);
            assertThat(t.dirtyRegions(1).toArray()).containsExactly(0, 5);
            assertThat(t.dirtyRegions(2).toArray()).containsExactly(0);
            assertThat(t.dirtyRegions(3).isEmpty()).isTrue();
            assertThat(t.dirtyRegionCount()).isEqualTo(3);

            t.dropEra(1);
            assertThat(t.pendingEras()).containsExactly(2L);
            assertThat(dir.resolve("dirty-1.bitmap")).doesNotExist();
            assertThat(t.dirtyRegionCount()).isEqualTo(1);
            assertThatThrownBy(() -> t.dropEra(3)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> t.dropEra(1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> t.dirtyRegions(1)).isInstanceOf(IllegalArgumentException.class);
        }
        try (DirtyTracker t = open()) {
            assertThat(t.openEra()).isEqualTo(3);
            assertThat(t.pendingEras()).containsExactly(2L);
            assertThat(t.dirtyRegions(2).toArray()).containsExactly(0);
        }
    }

    @Test
    void erasNeverGoBackwardsAfterDroppingEverything() {
        try (DirtyTracker t = open()) {
            t.dropEra(t.closeEra());
            t.dropEra(t.closeEra());
        }
        try (DirtyTracker t = open()) {
            assertThat(t.openEra()).isEqualTo(3);
            assertThat(t.pendingEras()).isEmpty();
        }
    }

    @Test
    void crashKeepsCompletedMarksOfEveryEra() {
        DirtyTracker t = open();
        join(t.markWrite(3L * R, 10));
        t.closeEra();
        join(t.markWrite(7L * R, 10));
        t.abandon();
        try (DirtyTracker after = open()) {
            assertThat(after.openEra()).isEqualTo(2);
            assertThat(after.dirtyRegions(1).toArray()).containsExactly(3);
            assertThat(after.dirtyRegions(2).toArray()).containsExactly(7);
            assertThat(after.recoveredHotRegions().isEmpty()).isTrue();
        }
    }

    @Test
    void hotRegionsBecomeDirtyAfterAnUncleanStop() {
        DirtyTracker t = open();
        t.markHot(10L * R, 2L * R).toCompletableFuture().join(); // regions 10, 11
        join(t.markWrite(11L * R, 1)); // 11 also dirty already
        t.abandon();
        try (DirtyTracker after = open()) {
            assertThat(after.recoveredHotRegions().toArray()).containsExactly(10, 11);
            assertThat(after.dirtyRegions(1).toArray()).containsExactly(10, 11);
            assertThat(after.activity().hotRegions().isEmpty()).isTrue();
        }
        try (DirtyTracker again = open()) {
            assertThat(again.recoveredHotRegions().isEmpty()).isTrue(); // recovery is not repeated
            assertThat(again.dirtyRegions(1).toArray()).containsExactly(10, 11);
        }
    }

    /**
     * Regression: after an unclean stop every hot region became dirty, excluded ranges or not. A region
     * wholly inside excluded ranges (here one range ends where the next begins) must stay clean; a region
     * only partly excluded is still marked, as a write to its other bytes would mark it.
     */
    @Test
    void hotRegionsInsideExcludedRangesDoNotComeBackDirtyAfterACrash() {
        // regions 2..3 wholly excluded (two adjacent ranges), region 5 half excluded, region 8 not at all
        ExcludedRanges scratch = ExcludedRanges.parse(2L * R + "-" + (3L * R + 100) + "," + (3L * R + 100) + "-" + 4L * R
                + "," + 5L * R + "-" + (5L * R + R / 2));
        DirtyTracker t = DirtyTracker.open(dir, META, "site-a", scratch);
        // As the mirrored write path did, and as a log written before the ranges were excluded holds.
        t.activity().markHot(2, 3).toCompletableFuture().join();
        t.activity().markHot(5, 5).toCompletableFuture().join();
        t.activity().markHot(8, 8).toCompletableFuture().join();
        t.abandon();
        try (DirtyTracker after = DirtyTracker.open(dir, META, "site-a", scratch)) {
            assertThat(after.dirtyRegions(1).toArray()).containsExactly(5, 8);
            assertThat(after.recoveredHotRegions().toArray()).containsExactly(5, 8);
            assertThat(after.activity().hotRegions().isEmpty()).isTrue();
        }
    }

    @Test
    void markHotLeavesRegionsWhollyInsideExcludedRangesCold() {
        DirtyTracker t = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.parse(2L * R + "-" + 4L * R));
        t.markHot(R + R / 2, 3L * R).toCompletableFuture().join(); // touches regions 1..4; 2 and 3 excluded
        assertThat(t.activity().hotRegions().toArray()).containsExactly(1, 4);
        t.abandon();
        try (DirtyTracker after = DirtyTracker.open(dir, META, "site-a", ExcludedRanges.parse(2L * R + "-" + 4L * R))) {
            assertThat(after.dirtyRegions(1).toArray()).containsExactly(1, 4);
        }
    }

    @Test
    void cleanCloseLeavesNoHotRegions() {
        try (DirtyTracker t = open()) {
            t.markHot(0, R).toCompletableFuture().join();
        }
        try (DirtyTracker t = open()) {
            assertThat(t.recoveredHotRegions().isEmpty()).isTrue();
            assertThat(t.dirtyRegionCount()).isZero();
        }
    }

    @Test
    void leftoverOfAnInterruptedCloseIsRemoved() throws IOException {
        open().close();
        // a crash after creating the next era's file but before eras.json named it
        DirtyBitmap.create(dir.resolve("dirty-2.bitmap"), "vol", "site-a", META.geometry(), 2).close();
        try (DirtyTracker t = open()) {
            assertThat(t.openEra()).isEqualTo(1);
            assertThat(dir.resolve("dirty-2.bitmap")).doesNotExist();
            assertThat(t.closeEra()).isEqualTo(1);
            assertThat(t.openEra()).isEqualTo(2);
        }
    }

    @Test
    void missingBitmapOfAPendingEraMarksEveryRegionDirtyInThatEra() throws IOException {
        try (DirtyTracker t = open()) {
            t.closeEra();
        }
        Files.delete(dir.resolve("dirty-1.bitmap"));
        try (DirtyTracker t = open()) {
            assertThat(t.pendingEras()).containsExactly(1L);
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(64);
            assertThat(t.stateDamage()).singleElement().satisfies(d -> {
                assertThat(d.file()).isEqualTo("dirty-1.bitmap");
                assertThat(d.cause()).contains("does not exist");
                assertThat(d.regions()).isEqualTo(64);
            });
        }
        try (DirtyTracker t = open()) {
            assertThat(t.stateDamage()).as("the recreated file is sound").isEmpty();
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(64);
        }
    }

    @Test
    void bitmapsWithoutErasFileBecomePendingErasWithEveryRegionDirty() throws IOException {
        try (DirtyTracker t = open()) {
            join(t.markWrite(3L * R, 1));
            t.closeEra();
        }
        Files.delete(dir.resolve(DirtyTracker.ERAS_FILE));
        try (DirtyTracker t = open()) {
            assertThat(t.pendingEras()).containsExactly(1L, 2L);
            assertThat(t.openEra()).isEqualTo(3);
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(64);
            assertThat(t.dirtyRegions(2).getLongCardinality()).isEqualTo(64);
            assertThat(t.stateDamage()).singleElement().satisfies(d -> {
                assertThat(d.file()).isEqualTo("eras.json");
                assertThat(d.cause()).contains("missing").contains("dirty-1.bitmap");
            });
        }
    }

    @Test
    void markedFirstEraWithoutErasFileIsKeptWithEveryRegionDirty() throws IOException {
        try (DirtyTracker t = open()) {
            join(t.markWrite(0, 1));
        }
        Files.delete(dir.resolve(DirtyTracker.ERAS_FILE));
        try (DirtyTracker t = open()) {
            assertThat(t.pendingEras()).containsExactly(1L);
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(64);
        }
    }

    @Test
    void emptyFirstEraFromAnInterruptedFirstOpenIsReplaced() throws IOException {
        DirtyBitmap.create(dir.resolve("dirty-1.bitmap"), "vol", "site-a", META.geometry(), 1).close();
        try (DirtyTracker t = open()) {
            assertThat(t.openEra()).isEqualTo(1);
            assertThat(join(t.markWrite(0, 1)).firstTouches()).containsExactly(0L);
        }
    }

    @Test
    void resizedVolumeIsRefused() {
        open().close();
        VolumeMetadata bigger = new VolumeMetadata("vol", Path.of("/dev/null"), new RegionGeometry(128L * R, R), Role.PRIMARY);
        assertThatThrownBy(() -> DirtyTracker.open(dir, bigger, "site-a", ExcludedRanges.NONE))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining("geometry");
    }
}
