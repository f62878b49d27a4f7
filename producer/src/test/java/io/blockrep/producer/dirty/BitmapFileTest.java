package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.RegionGeometry;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BitmapFileTest {
    /** Written by an independent script ({@code golden/bitmap/make-golden.py}) from the layout documented in {@link BitmapFile}. */
    static final String GOLDEN = "/golden/bitmap/v2-dirty-1m-4k-era7.bitmap";
    /** A version 1 file (no page checksums), as deployed state directories hold them. */
    static final String GOLDEN_V1 = "/golden/bitmap/v1-dirty-1m-4k-era7.bitmap";
    static final RegionGeometry GEOMETRY = new RegionGeometry(1 << 20, 4096);
    static final BitmapFile.Header HEADER = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "vol-golden", "site-a", GEOMETRY, 7);
    static final long[] GOLDEN_BITS = {0, 1, 63, 64, 130, 255};

    @TempDir
    Path dir;

    @Test
    void freshlyWrittenFileMatchesGoldenBytes() throws IOException {
        Path file = dir.resolve("b.bitmap");
        try (BitmapFile f = BitmapFile.create(file, HEADER)) {
            for (long r : GOLDEN_BITS) {
                assertThat(f.set(r)).isTrue();
            }
            assertThat(f.flush()).isEqualTo(1);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(golden());
    }

    @Test
    void goldenFileReadsBack() throws IOException {
        Path file = copy(GOLDEN);
        try (BitmapFile f = BitmapFile.open(file, HEADER)) {
            assertThat(f.header()).isEqualTo(HEADER);
            assertThat(f.cardinality()).isEqualTo(GOLDEN_BITS.length);
            assertThat(f.toRoaring().toArray()).containsExactly(0, 1, 63, 64, 130, 255);
            assertThat(f.get(2)).isFalse();
            assertThat(f.damagedPages()).isEmpty();
            assertThat(f.upgradedFrom()).isZero();
        }
        assertThat(BitmapFile.readHeader(file)).isEqualTo(HEADER);
        assertThat(Files.readAllBytes(file)).isEqualTo(golden());
    }

    @Test
    void version1GoldenFileReadsBackAndIsUpgradedToVersion2() throws IOException {
        Path file = copy(GOLDEN_V1);
        assertThat(BitmapFile.readHeader(file)).isEqualTo(HEADER);
        try (BitmapFile f = BitmapFile.open(file, HEADER)) {
            assertThat(f.upgradedFrom()).isEqualTo(1);
            assertThat(f.toRoaring().toArray()).containsExactly(0, 1, 63, 64, 130, 255);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(golden());
        assertThat(Files.exists(file.resolveSibling(file.getFileName() + ".upgrade"))).isFalse();
    }

    @Test
    void fileSizeIsHeaderPlusWholeBitPagesOf511Words() {
        assertThat(BitmapFile.REGIONS_PER_PAGE).isEqualTo(32704);
        assertThat(BitmapFile.fileSize(1)).isEqualTo(8192);
        assertThat(BitmapFile.fileSize(511 * 64)).isEqualTo(8192);
        assertThat(BitmapFile.fileSize(511 * 64 + 1)).isEqualTo(12288);
    }

    @Test
    void flippedBitPageBytesMarkEveryRegionOfThePageAndRepairIt() throws IOException {
        RegionGeometry big = new RegionGeometry(100_000L * 4096, 4096); // 100000 regions: 4 bit pages, the last partial
        BitmapFile.Header h = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "v", "n", big, 1);
        Path file = dir.resolve("big.bitmap");
        try (BitmapFile f = BitmapFile.create(file, h)) {
            f.set(5);
            f.set(40_000); // page 1
            f.flush();
        }
        flip(file, BitmapFile.HEADER_SIZE + BitmapFile.PAGE_SIZE + 100); // page 1
        flip(file, BitmapFile.HEADER_SIZE + BitmapFile.PAGE_SIZE + 101);
        flip(file, BitmapFile.HEADER_SIZE + 3L * BitmapFile.PAGE_SIZE + 7); // page 3, the partial last one
        try (BitmapFile f = BitmapFile.open(file, h)) {
            assertThat(f.damagedPages()).containsExactly(1, 3);
            assertThat(f.pageRegions(1)).isEqualTo(new RegionRange(32704, 65407));
            assertThat(f.pageRegions(3)).isEqualTo(new RegionRange(98112, 99999));
            assertThat(f.get(5)).isTrue();
            assertThat(f.get(6)).isFalse();
            assertThat(f.cardinality()).isEqualTo(1 + 32704 + (100_000 - 98112));
        }
        try (BitmapFile f = BitmapFile.open(file, h)) {
            assertThat(f.damagedPages()).as("repaired durably at the first open").isEmpty();
            assertThat(f.cardinality()).isEqualTo(1 + 32704 + (100_000 - 98112));
        }
    }

    @Test
    void setAllSetsEveryRegionAndNothingPastTheEnd() throws IOException {
        RegionGeometry odd = new RegionGeometry(100 * 4096, 4096);
        BitmapFile.Header h = new BitmapFile.Header(BitmapFile.Kind.ACTIVITY, "v", "n", odd, 0);
        Path file = dir.resolve("all.bitmap");
        try (BitmapFile f = BitmapFile.create(file, h)) {
            f.setAll();
            f.flush();
        }
        try (BitmapFile f = BitmapFile.open(file, h)) {
            assertThat(f.cardinality()).isEqualTo(100);
            assertThat(f.damagedPages()).isEmpty();
        }
    }

    @Test
    void onlyChangedPagesAreWritten() throws IOException {
        RegionGeometry big = new RegionGeometry(4L << 30, 4096); // 1M regions: 32 bit pages
        BitmapFile.Header h = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "v", "n", big, 1);
        Path file = dir.resolve("big.bitmap");
        try (BitmapFile f = BitmapFile.create(file, h)) {
            f.set(0);
            f.set(5);
            f.set(32768 * 3 + 1); // page 3
            assertThat(f.flush()).isEqualTo(2);
            assertThat(f.flush()).isZero();
            f.clear(5);
            assertThat(f.flush()).isEqualTo(1);
        }
        try (BitmapFile f = BitmapFile.open(file, h)) {
            assertThat(f.toRoaring().toArray()).containsExactly(0, 32768 * 3 + 1);
        }
    }

    @Test
    void flippedHeaderByteFailsTheChecksum() throws IOException {
        Path file = copyGolden();
        flip(file, BitmapFile.OFF_VOLUME_SIZE + 2);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("checksum");
    }

    @Test
    void flippedPaddingByteFailsTheChecksum() throws IOException {
        Path file = copyGolden();
        flip(file, 2000);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER)).isInstanceOf(FatalException.class).hasMessageContaining("checksum");
    }

    @Test
    void wrongMagicIsNotABitmap() throws IOException {
        Path file = copyGolden();
        flip(file, 0);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("magic");
    }

    @Test
    void newerFormatVersionIsNamed() throws IOException {
        Path file = copyGolden();
        flip(file, BitmapFile.OFF_VERSION + 1);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER)).isInstanceOf(FatalException.class).hasMessageContaining("format version 257");
    }

    @Test
    void truncatedBitsAreReported() throws IOException {
        Path file = copyGolden();
        truncate(file, 6000);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated")
                .hasMessageContaining("6000 bytes, expected 8192");
    }

    @Test
    void truncatedHeaderIsReported() throws IOException {
        Path file = copyGolden();
        truncate(file, 100);
        assertThatThrownBy(() -> BitmapFile.open(file, HEADER)).isInstanceOf(FatalException.class).hasMessageContaining("truncated");
    }

    @Test
    void bitmapOfAnotherEraOrGeometryIsRefusedNamingEveryMismatch() throws IOException {
        Path file = copyGolden();
        BitmapFile.Header other = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "vol-golden", "site-b",
                new RegionGeometry(2 << 20, 4096), 8);
        assertThatThrownBy(() -> BitmapFile.open(file, other))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining("node 'site-a', expected 'site-b'")
                .hasMessageContaining("era 7, expected 8")
                .hasMessageContaining("geometry");
    }

    @Test
    void bitsPastTheLastRegionAreCorruption() throws IOException {
        RegionGeometry odd = new RegionGeometry(100 * 4096, 4096); // 100 regions
        BitmapFile.Header h = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "v", "n", odd, 1);
        Path file = dir.resolve("odd.bitmap");
        BitmapFile.create(file, h).close();
        flip(file, BitmapFile.HEADER_SIZE + 15); // region 127
        fixPageCrc(file, 0); // a page that checks out yet sets bits no region has: written wrong, not torn
        assertThatThrownBy(() -> BitmapFile.open(file, h)).isInstanceOf(CorruptBitmapException.class)
                .hasMessageContaining("past the last region");
    }

    @Test
    void createRefusesToOverwrite() throws IOException {
        Path file = copyGolden();
        byte[] before = Files.readAllBytes(file);
        assertThatThrownBy(() -> BitmapFile.create(file, HEADER)).isInstanceOf(FatalException.class).hasMessageContaining("already exists");
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    static byte[] golden() throws IOException {
        try (InputStream in = Objects.requireNonNull(BitmapFileTest.class.getResourceAsStream(GOLDEN), GOLDEN)) {
            return in.readAllBytes();
        }
    }

    /** The version 1 golden file: the header and whole-file checks are the same in both versions. */
    private Path copyGolden() throws IOException {
        return copy(GOLDEN_V1);
    }

    private Path copy(String resource) throws IOException {
        Path file = dir.resolve("golden.bitmap");
        try (InputStream in = Objects.requireNonNull(BitmapFileTest.class.getResourceAsStream(resource), resource)) {
            Files.write(file, in.readAllBytes());
        }
        return file;
    }

    static void fixPageCrc(Path file, int page) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] bytes = new byte[BitmapFile.PAGE_SIZE];
            long at = BitmapFile.HEADER_SIZE + (long) page * BitmapFile.PAGE_SIZE;
            raf.seek(at);
            raf.readFully(bytes);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes, 0, BitmapFile.PAGE_SIZE - 4);
            java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(BitmapFile.PAGE_SIZE - 4, (int) crc.getValue());
            raf.seek(at);
            raf.write(bytes);
        }
    }

    static void flip(Path file, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x01);
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
    }
}
