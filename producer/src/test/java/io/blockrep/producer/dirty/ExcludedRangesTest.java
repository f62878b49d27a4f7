package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.RegionGeometry;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExcludedRangesTest {
    @Test
    void parsesSizesWithUnits() {
        ExcludedRanges ex = ExcludedRanges.parse("10G-12G, 0-1G");
        assertThat(ex.ranges()).containsExactly(
                new ExcludedRanges.Range(0, Sizes.GIB), new ExcludedRanges.Range(10 * Sizes.GIB, 12 * Sizes.GIB));
        assertThat(ex.toString()).isEqualTo("0-1G,10G-12G");
        assertThat(ExcludedRanges.parse(" ").isEmpty()).isTrue();
    }

    @Test
    void listsEveryProblem() {
        assertThatThrownBy(() -> ExcludedRanges.parse("0-1G,2X-3G,,5G,4G-3G,512M-2G"))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(78);
                    assertThat(e.problems()).hasSize(5);
                    assertThat(e.problems().get(0)).contains("2X");
                    assertThat(e.problems().get(1)).contains("empty entry");
                    assertThat(e.problems().get(2)).contains("'5G' is not a range");
                    assertThat(e.problems().get(3)).contains("4G-3G").contains("reversed");
                    assertThat(e.problems().get(4)).contains("overlap");
                });
    }

    @Test
    void rangesPastTheVolumeAreProblems() {
        RegionGeometry g = new RegionGeometry(Sizes.GIB, 65536);
        assertThat(ExcludedRanges.parse("0-1G").problems(g)).isEmpty();
        assertThat(ExcludedRanges.parse("512M-2G").problems(g)).singleElement().asString().contains("past the volume size");
    }

    @Test
    void writeWhollyInsideAnExcludedRangeMarksNothing() {
        RegionGeometry g = new RegionGeometry(Sizes.MIB, 4096);
        ExcludedRanges ex = ExcludedRanges.parse("64K-128K");
        assertThat(ex.regionsToMark(65536, 65536, g)).isEmpty();
        assertThat(ex.regionsToMark(70000, 10, g)).isEmpty();
    }

    @Test
    void writeStraddlingABoundaryMarksOnlyItsNonExcludedRegions() {
        RegionGeometry g = new RegionGeometry(Sizes.MIB, 4096);
        ExcludedRanges ex = ExcludedRanges.parse("64K-128K");
        // bytes 60K..140K: 60K-64K (region 15) and 128K-140K (regions 32..34)
        assertThat(ex.regionsToMark(60 * 1024, 80 * 1024, g)).containsExactly(new RegionRange(15, 15), new RegionRange(32, 34));
        // an excluded boundary inside a region still marks that region for its other bytes
        ExcludedRanges mid = ExcludedRanges.parse("6K-10K");
        assertThat(mid.regionsToMark(0, 16384, g)).containsExactly(new RegionRange(0, 3));
        assertThat(mid.regionsToMark(6144, 2048, g)).isEmpty();
    }

    /** Compares regionsToMark with a byte-by-byte model on random small volumes and writes. */
    @Test
    void matchesByteModel() {
        for (long seed = 1; seed <= 200; seed++) {
            Random random = new Random(seed);
            int regionSize = 4096;
            long size = (1 + random.nextInt(24)) * 4096L - (random.nextBoolean() ? 512 : 0);
            RegionGeometry g = new RegionGeometry(size, regionSize);
            List<String> items = new ArrayList<>();
            BitSet excludedBytes = new BitSet();
            long cursor = 0;
            while (true) {
                long start = cursor + random.nextInt(12000);
                long end = start + 1 + random.nextInt(12000);
                if (end > size) {
                    break;
                }
                items.add(start + "-" + end);
                excludedBytes.set((int) start, (int) end);
                cursor = end;
            }
            ExcludedRanges ex = ExcludedRanges.parse(String.join(",", items));
            for (int w = 0; w < 50; w++) {
                long offset = random.nextInt((int) size);
                long length = random.nextInt((int) Math.min(size - offset, 20000) + 1);
                BitSet expected = new BitSet();
                for (long b = offset; b < offset + length; b++) {
                    if (!excludedBytes.get((int) b)) {
                        expected.set((int) g.regionOf(b));
                    }
                }
                BitSet actual = new BitSet();
                List<RegionRange> ranges = ex.regionsToMark(offset, length, g);
                for (int i = 0; i < ranges.size(); i++) {
                    RegionRange r = ranges.get(i);
                    if (i > 0) {
                        assertThat(r.first()).as("seed %d: ranges ascending, disjoint, not adjacent", seed)
                                .isGreaterThan(ranges.get(i - 1).last() + 1);
                    }
                    actual.set((int) r.first(), (int) r.last() + 1);
                }
                assertThat(actual).as("seed %d write %d+%d excluded %s", seed, offset, length, items).isEqualTo(expected);
            }
        }
    }

    @Test
    void writeOutsideTheVolumeIsRejected() {
        RegionGeometry g = new RegionGeometry(Sizes.MIB, 4096);
        assertThatThrownBy(() -> ExcludedRanges.NONE.regionsToMark(Sizes.MIB - 10, 11, g)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
