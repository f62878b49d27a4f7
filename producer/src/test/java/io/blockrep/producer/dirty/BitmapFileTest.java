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
    /** Written by an independent script from the layout documented in {@link BitmapFile}. */
    static final String GOLDEN = "/golden/dirty-1m-4k-era7.bitmap";
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
        Path file = copyGolden();
        try (BitmapFile f = BitmapFile.open(file, HEADER)) {
            assertThat(f.header()).isEqualTo(HEADER);
            assertThat(f.cardinality()).isEqualTo(GOLDEN_BITS.length);
            assertThat(f.toRoaring().toArray()).containsExactly(0, 1, 63, 64, 130, 255);
            assertThat(f.get(2)).isFalse();
        }
        assertThat(BitmapFile.readHeader(file)).isEqualTo(HEADER);
    }

    @Test
    void fileSizeIsHeaderPlusWholeBitPages() {
        assertThat(BitmapFile.fileSize(1)).isEqualTo(8192);
        assertThat(BitmapFile.fileSize(4096 * 8)).isEqualTo(8192);
        assertThat(BitmapFile.fileSize(4096 * 8 + 1)).isEqualTo(12288);
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
        assertThatThrownBy(() -> BitmapFile.open(file, h)).isInstanceOf(FatalException.class).hasMessageContaining("past the last region");
    }

    @Test
    void createRefusesToOverwrite() throws IOException {
        Path file = copyGolden();
        assertThatThrownBy(() -> BitmapFile.create(file, HEADER)).isInstanceOf(FatalException.class).hasMessageContaining("already exists");
        assertThat(Files.readAllBytes(file)).isEqualTo(golden());
    }

    static byte[] golden() throws IOException {
        try (InputStream in = Objects.requireNonNull(BitmapFileTest.class.getResourceAsStream(GOLDEN), GOLDEN)) {
            return in.readAllBytes();
        }
    }

    private Path copyGolden() throws IOException {
        Path file = dir.resolve("golden.bitmap");
        Files.write(file, golden());
        return file;
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
