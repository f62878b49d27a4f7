package io.blockrep.replayer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.volume.RegionGeometry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

class ExtentPlannerTest {
    @Test
    void coalescesAdjacentRegionsUpToTheMaximum() {
        RegionGeometry g = new RegionGeometry(1L << 20, 4096);
        List<Extent> plan = new ExtentPlanner(g, 3 * 4096).plan(RoaringBitmap.bitmapOf(0, 1, 2, 3, 4, 7, 9, 10));
        assertThat(plan).containsExactly(
                new Extent(0, 3, 0, 3 * 4096), new Extent(3, 2, 3 * 4096, 2 * 4096),
                new Extent(7, 1, 7 * 4096, 4096), new Extent(9, 2, 9 * 4096, 2 * 4096));
    }

    @Test
    void lastRegionMayBeShort() {
        RegionGeometry g = new RegionGeometry(10 * 4096 + 512, 4096);
        assertThat(new ExtentPlanner(g, 1 << 20).plan(RoaringBitmap.bitmapOf(9, 10)))
                .containsExactly(new Extent(9, 2, 9 * 4096, 4096 + 512));
    }

    @Test
    void refusesRegionsBeyondTheVolume() {
        RegionGeometry g = new RegionGeometry(4096 * 4, 4096);
        assertThatThrownBy(() -> new ExtentPlanner(g, 1 << 20).plan(RoaringBitmap.bitmapOf(4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond");
    }

    /** Property against a model: extents are sorted, disjoint, within the maximum, and cover exactly the dirty set. */
    @Test
    void extentsCoverExactlyTheDirtyRegions() {
        Random random = new Random(42);
        for (int round = 0; round < 500; round++) {
            int regions = 1 + random.nextInt(5000);
            RegionGeometry g = new RegionGeometry((long) regions * 4096, 4096);
            int maxRegions = 1 + random.nextInt(64);
            TreeSet<Long> model = new TreeSet<>();
            RoaringBitmap dirty = new RoaringBitmap();
            double density = random.nextDouble();
            for (int r = 0; r < regions; r++) {
                if (random.nextDouble() < density) {
                    model.add((long) r);
                    dirty.add(r);
                }
            }
            List<Extent> plan = new ExtentPlanner(g, (long) maxRegions * 4096).plan(dirty);
            List<Long> covered = new ArrayList<>();
            long previousEnd = -1;
            for (Extent e : plan) {
                assertThat(e.offset()).isGreaterThan(previousEnd - 1);
                assertThat(e.regionCount()).isBetween(1, maxRegions);
                assertThat(e.length()).isEqualTo((long) e.regionCount() * 4096);
                for (int i = 0; i < e.regionCount(); i++) {
                    covered.add(e.firstRegion() + i);
                }
                previousEnd = e.offset() + e.length();
            }
            assertThat(covered).containsExactlyElementsOf(model);
        }
    }
}
