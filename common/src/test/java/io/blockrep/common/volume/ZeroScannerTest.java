package io.blockrep.common.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ZeroScannerTest {
    /** A volume in memory: {@code bytes}, and the offsets and lengths of every read. */
    private static final class Memory implements ZeroScanner.Source {
        final byte[] bytes;
        final List<long[]> reads = new ArrayList<>();

        Memory(int size) {
            bytes = new byte[size];
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            reads.add(new long[] {offset, dst.remaining()});
            dst.put(bytes, (int) offset, dst.remaining());
        }
    }

    private static List<Long> scan(RegionGeometry g, ZeroScanner.Source source) throws IOException {
        List<Long> found = new ArrayList<>();
        long count = new ZeroScanner().scan(g, source, found::add);
        assertThat(count).isEqualTo(found.size());
        return found;
    }

    @Test
    void findsExactlyTheRegionsHoldingANonZeroByteWhateverTheRegionSize() throws IOException {
        Random random = new Random(7);
        for (int regionSize : new int[] {4096, 64 << 10, 1 << 20, 4 << 20}) {
            int size = 8 << 20;
            Memory m = new Memory(size);
            TreeSet<Long> expected = new TreeSet<>();
            for (int i = 0; i < 40; i++) {
                int at = random.nextInt(size);
                m.bytes[at] = (byte) (1 + random.nextInt(255));
                expected.add((long) at / regionSize);
            }
            m.bytes[size - 1] = 1; // the last byte of the last region
            expected.add((long) (size - 1) / regionSize);
            assertThat(scan(new RegionGeometry(size, regionSize), m)).as("region size %d", regionSize)
                    .containsExactlyElementsOf(expected);
        }
    }

    @Test
    void allZeroesHasNoRegionAndAShortLastRegionIsScanned() throws IOException {
        Memory zeros = new Memory(3 << 20);
        RegionGeometry g = new RegionGeometry(3 << 20, 64 << 10);
        assertThat(scan(g, zeros)).isEmpty();
        assertThat(new ZeroScanner().firstNonZero(g, zeros)).isEqualTo(-1);

        // 1 MiB + 512 bytes with 1 MiB regions: region 1 holds only 512 bytes.
        Memory tail = new Memory((1 << 20) + 512);
        tail.bytes[(1 << 20) + 100] = 9;
        assertThat(scan(new RegionGeometry((1 << 20) + 512, 1 << 20), tail)).containsExactly(1L);
    }

    @Test
    void readsInChunksAndSkipsTheRestOfALargeRegionOnceItHoldsData() throws IOException {
        Memory m = new Memory(16 << 20);
        m.bytes[10] = 1; // region 0 (of 4 MiB) holds data in its first chunk
        List<Long> found = scan(new RegionGeometry(16 << 20, 4 << 20), m);
        assertThat(found).containsExactly(0L);
        assertThat(m.reads).allSatisfy(r -> assertThat(r[1]).isLessThanOrEqualTo(ZeroScanner.CHUNK));
        assertThat(m.reads.stream().mapToLong(r -> r[0])).as("region 0 is read once, 1-3 fully").doesNotContain(1L << 20, 2L << 20, 3L << 20);
        assertThat(m.reads).hasSize(1 + 12);
    }

    @Test
    void firstNonZeroStopsAtTheFirstRegionWithData() throws IOException {
        Memory m = new Memory(8 << 20);
        m.bytes[(3 << 20) + 5] = 1;
        m.bytes[(6 << 20) + 5] = 1;
        assertThat(new ZeroScanner().firstNonZero(new RegionGeometry(8 << 20, 64 << 10), m)).isEqualTo(48);
        assertThat(m.reads).hasSize(4);
    }
}
