package io.blockrep.common.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RegionGeometryTest {
    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> new RegionGeometry(1000, 3000))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).hasSize(2));
    }

    @Test
    void shortLastRegion() {
        RegionGeometry g = new RegionGeometry(100 * 1024, 64 * 1024);
        assertThat(g.regionCount()).isEqualTo(2);
        assertThat(g.regionLength(1)).isEqualTo(36 * 1024);
    }

    @Test
    void containsRejectsOverflow() {
        RegionGeometry g = new RegionGeometry(1 << 20, 4096);
        assertThat(g.contains(Long.MAX_VALUE, 10)).isFalse();
        assertThat(g.contains(10, Long.MAX_VALUE)).isFalse();
        assertThat(g.contains(-1, 1)).isFalse();
        assertThat(g.contains(1 << 20, 0)).isTrue();
        assertThat(g.contains((1 << 20) - 1, 2)).isFalse();
    }

    /** Property: the first and last regions of a byte range contain its first and last byte. Seeded, so a failure reproduces. */
    @Test
    void regionsOfARangeCoverExactlyItsBytes() {
        Random random = new Random(20261125L);
        for (int i = 0; i < 10_000; i++) {
            int shift = 12 + random.nextInt(13);
            long offset = random.nextLong(1L << 32);
            int length = 1 + random.nextInt(1 << 25);
            RegionGeometry g = new RegionGeometry(1L << 40, 1 << shift);
            long first = g.firstRegion(offset);
            long last = g.lastRegion(offset, length);
            assertThat(g.regionStart(first)).isLessThanOrEqualTo(offset);
            assertThat(g.regionStart(first) + g.regionSize()).isGreaterThan(offset);
            assertThat(g.regionStart(last)).isLessThanOrEqualTo(offset + length - 1);
            assertThat(g.regionStart(last) + g.regionSize()).isGreaterThan(offset + length - 1);
        }
    }
}
