package io.blockrep.replayer.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.blockrep.common.volume.RegionGeometry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/**
 * Issue #12 item 4: {@link ExtentPlanner} against a sorted-set model. Each run draws a geometry (region
 * size 4 KiB..16 MiB, a short last region now and then, and volumes of up to 2^32 regions, whose upper
 * half RoaringBitmap holds as negative ints), a dirty set made the way the replayer makes one (several
 * eras' regions, single and in runs, merged, some tombstoned again) and an extent limit (below, at and
 * above the region size, not always a multiple of it). The plan must cover exactly the model's regions
 * (no gap, no region twice, nothing else), in offset order, each extent a contiguous run within the
 * limit with the exact byte range of its regions, and coalesced greedily: an extent is followed by an
 * adjacent one only when it is full.
 *
 * <p>Seeded, no framework: {@code -Dplanner.seed=S} reruns from seed S, {@code -Dplanner.runs=N} sets the
 * number of runs (default 400). A failure names its seed and the command that reruns it alone.
 */
class ExtentPlannerPropertyTest {
    private static final long SEED = Long.getLong("planner.seed", 20_261_202L);
    private static final int RUNS = Integer.getInteger("planner.runs", 400);

    /** One drawn case: the geometry, the limit, the dirty set as the planner gets it and as the model holds it. */
    private record Case(RegionGeometry geometry, long maxExtentBytes, RoaringBitmap dirty, NavigableSet<Long> model) {
        @Override
        public String toString() {
            return "size=" + geometry.size() + " regionSize=" + geometry.regionSize() + " maxExtentBytes=" + maxExtentBytes
                    + " dirtyRegions=" + model.size() + (model.isEmpty() ? "" : " first=" + model.first() + " last=" + model.last());
        }
    }

    @Test
    void plannedExtentsCoverExactlyTheModelsRegionsInOrderWithinTheLimit() {
        for (int run = 0; run < RUNS; run++) {
            long seed = SEED + run;
            Case c = draw(new Random(seed));
            try {
                check(c, new ExtentPlanner(c.geometry(), c.maxExtentBytes()).plan(c.dirty()));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("planner property failed for seed " + seed + " (" + c + "); rerun it alone with: mvn -o -pl replayer -am"
                        + " -Dtest=ExtentPlannerPropertyTest -Dsurefire.failIfNoSpecifiedTests=false -Dplanner.seed=" + seed
                        + " -Dplanner.runs=1 test", e);
            }
        }
    }

    private static Case draw(Random random) {
        int regionSize = 4096 << random.nextInt(13);                 // 4 KiB .. 16 MiB
        long regionCount = switch (random.nextInt(10)) {
            case 0 -> (1L << 32) - random.nextInt(1000);           // the whole unsigned range
            case 1 -> (1L << 31) + random.nextInt(1000);           // just past the signed int range
            case 2 -> 1 + random.nextInt(3);
            default -> 1 + random.nextInt(20_000);
        };
        long size = regionCount * regionSize;
        if (random.nextInt(4) == 0) {
            // A short last region: the volume ends a whole number of 512-byte sectors into it.
            size -= regionSize - 512L * (1 + random.nextInt(regionSize / 512 - 1));
        }
        RegionGeometry geometry = new RegionGeometry(size, regionSize);
        long limit = switch (random.nextInt(5)) {
            case 0 -> 1 + random.nextInt(regionSize);                            // below one region: one region per extent
            case 1 -> (long) regionSize * (1 + random.nextInt(64));              // whole regions
            case 2 -> (long) regionSize * (1 + random.nextInt(64)) + random.nextInt(regionSize); // not a multiple
            case 3 -> 32L << 20;                                                  // the configured maximum
            default -> Long.MAX_VALUE / 2;                                        // effectively unlimited
        };
        NavigableSet<Long> model = new TreeSet<>();
        RoaringBitmap dirty = new RoaringBitmap();
        long count = geometry.regionCount();
        // A window of the volume to draw in, so that even a 2^32-region volume gets adjacent regions.
        long window = Math.min(count, 1 + random.nextInt(50_000));
        long base = count == window ? 0 : (random.nextBoolean() ? count - window : (long) (random.nextDouble() * (count - window)));
        int eras = 1 + random.nextInt(4);
        for (int era = 0; era < eras; era++) {
            RoaringBitmap eraRegions = new RoaringBitmap();
            int writes = random.nextInt(200);
            for (int w = 0; w < writes; w++) {
                long first = base + (long) (random.nextDouble() * window);
                long run = random.nextInt(3) == 0 ? 1 + random.nextInt(300) : 1;
                long end = Math.min(base + window, first + run);
                eraRegions.add(first, end);
                for (long r = first; r < end; r++) {
                    model.add(r);
                }
            }
            dirty.or(eraRegions);                                     // eras merged into one set, as liveRegionsThrough does
        }
        int tombstones = model.isEmpty() ? 0 : random.nextInt(20);
        for (int t = 0; t < tombstones; t++) {
            Long victim = model.ceiling(base + (long) (random.nextDouble() * window));
            if (victim != null) {
                model.remove(victim);
                dirty.remove((int) (long) victim);
            }
        }
        if (random.nextInt(8) == 0) {
            dirty.add(count - 1, count);                              // the (possibly short) last region
            model.add(count - 1);
        }
        return new Case(geometry, limit, dirty, model);
    }

    private static void check(Case c, List<Extent> plan) {
        RegionGeometry g = c.geometry();
        int maxRegions = (int) Math.max(1, Math.min(Integer.MAX_VALUE, c.maxExtentBytes() / g.regionSize()));
        Iterator<Long> expected = c.model().iterator();
        Extent previous = null;
        for (Extent e : plan) {
            // Plain comparisons, not an assertion object per extent and region: they make the runs ten times slower.
            require(e.regionCount() >= 1 && e.regionCount() <= maxRegions, "extent %s: region count outside 1..%d", e, maxRegions);
            require(e.offset() == g.regionStart(e.firstRegion()), "extent %s: not at the offset of its first region", e);
            long last = e.firstRegion() + e.regionCount() - 1;
            require(last < g.regionCount(), "extent %s: beyond the volume's %d regions", e, g.regionCount());
            require(e.offset() + e.length() == g.regionStart(last) + g.regionLength(last), "extent %s: does not end where its last region ends", e);
            require(e.length() <= Math.max(g.regionSize(), c.maxExtentBytes()), "extent %s: over the byte limit", e);
            if (previous != null) {
                long previousEnd = previous.firstRegion() + previous.regionCount();
                require(e.firstRegion() >= previousEnd, "extent %s after %s: out of order or overlapping", e, previous);
                require(e.firstRegion() != previousEnd || previous.regionCount() == maxRegions,
                        "extent %s split from %s although that one was not full", e, previous);
            }
            for (long r = e.firstRegion(); r <= last; r++) {
                if (!expected.hasNext()) {
                    fail("extent %s covers region %d, beyond the model's last", e, r);
                }
                long want = expected.next();
                if (r != want) {
                    fail("extent %s covers region %d where the model's next region is %d (%s)", e, r, want,
                            r < want ? "a region the model does not have" : "a gap: region " + want + " is in no extent");
                }
            }
            previous = e;
        }
        List<Long> missed = new ArrayList<>();
        expected.forEachRemaining(r -> {
            if (missed.size() < 5) {
                missed.add(r);
            }
        });
        assertThat(missed).as("model regions no extent covers").isEmpty();
    }

    private static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            fail(format, args);
        }
    }
}
