package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

class ActivityLogTest {
    static final RegionGeometry GEOMETRY = new RegionGeometry(16L << 20, 65536); // 256 regions
    @TempDir
    Path dir;

    private ActivityLog open() {
        return ActivityLog.open(dir.resolve("activity.bitmap"), "vol", "site-a", GEOMETRY);
    }

    @Test
    void hotRegionsAreDurableAndRemarkingThemDoesNoIo() {
        try (ActivityLog log = open()) {
            assertThat(log.foundAtOpen().isEmpty()).isTrue();
            log.markHot(3, 5).toCompletableFuture().join();
            long flushes = log.flushCount();
            assertThat(log.markHot(4, 4).toCompletableFuture()).isCompleted();
            assertThat(log.flushCount()).isEqualTo(flushes);
            assertThat(log.hotRegions().toArray()).containsExactly(3, 4, 5);
        }
    }

    @Test
    void coolRewritesTheHotSet() {
        ActivityLog log = open();
        log.markHot(1, 9).toCompletableFuture().join();
        log.cool(RoaringBitmap.bitmapOf(2, 3, 4)).toCompletableFuture().join();
        assertThat(log.isHot(3)).isFalse();
        assertThat(log.hotRegions().toArray()).containsExactly(1, 5, 6, 7, 8, 9);
        log.abandon();
        ActivityLog after = open();
        assertThat(after.foundAtOpen().toArray()).containsExactly(1, 5, 6, 7, 8, 9);
        after.reset().toCompletableFuture().join();
        assertThat(after.hotRegions().isEmpty()).isTrue();
        after.abandon();
        try (ActivityLog third = open()) {
            assertThat(third.foundAtOpen().isEmpty()).isTrue();
        }
    }

    @Test
    void cleanCloseLeavesAnEmptyLog() {
        try (ActivityLog log = open()) {
            log.markHot(0, 255).toCompletableFuture().join();
        }
        try (ActivityLog log = open()) {
            assertThat(log.foundAtOpen().isEmpty()).isTrue();
        }
    }

    @Test
    void uncleanStopLeavesTheHotSet() {
        ActivityLog log = open();
        log.markHot(7, 8).toCompletableFuture().join();
        log.markHot(200, 200).toCompletableFuture().join();
        log.abandon();
        try (ActivityLog after = open()) {
            assertThat(after.foundAtOpen().toArray()).containsExactly(7, 8, 200);
        }
    }
}
