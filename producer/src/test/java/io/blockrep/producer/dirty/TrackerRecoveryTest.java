package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each damaged-file case of {@link TrackerRecovery}'s table: more regions dirty, never a clean start, always reported. */
class TrackerRecoveryTest {
    static final int R = 4096;
    /** 70000 regions: three bit pages, the last one partial. */
    static final VolumeMetadata META = new VolumeMetadata("vol", Path.of("/dev/null"), new RegionGeometry(70_000L * R, R), Role.PRIMARY);
    static final long ALL = 70_000;
    @TempDir
    Path dir;

    private DirtyTracker open(boolean cleanStop) {
        return DirtyTracker.open(dir, META, "site-a", ExcludedRanges.NONE, 1, cleanStop);
    }

    private static void mark(DirtyTracker t, long region) {
        t.markWrite(region * R, 1).toCompletableFuture().join();
    }

    @Test
    void soundFilesReportNothing() {
        try (DirtyTracker t = open(false)) {
            mark(t, 5);
        }
        try (DirtyTracker t = open(true)) {
            assertThat(t.stateDamage()).isEmpty();
            assertThat(t.dirtyRegions(1).toArray()).containsExactly(5);
        }
    }

    @Test
    void damagedPageOfTheOpenEraMarksThatPageDirty() throws IOException {
        try (DirtyTracker t = open(true)) {
            mark(t, 5);
            mark(t, 40_000);
        }
        zero(dir.resolve("dirty-1.bitmap"), 4096 + 4096 + 10, 2); // page 1: regions 32704..65407
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(1 + 32704);
            assertThat(t.dirtyRegions(1).contains(5)).isTrue();
            assertThat(t.stateDamage()).singleElement().satisfies(d -> {
                assertThat(d.summary()).isEqualTo("dirty-1.bitmap page 1 checksum mismatch; 32704 regions marked dirty in era 1");
            });
        }
    }

    @Test
    void damagedPageOfAPendingEraMarksThatPageDirtyInThatEra() throws IOException {
        try (DirtyTracker t = open(true)) {
            mark(t, 66_000);
            t.closeEra();
        }
        zero(dir.resolve("dirty-1.bitmap"), 4096 + 2 * 4096 + 4000, 1); // page 2: regions 65408..69999
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(ALL - 65408);
            assertThat(t.dirtyRegions(2).isEmpty()).isTrue();
            assertThat(t.stateDamage()).singleElement().satisfies(d -> assertThat(d.regions()).isEqualTo(ALL - 65408));
        }
    }

    @Test
    void truncatedOrBadHeaderEraBitmapMarksTheWholeVolumeDirtyInThatEraAndKeepsTheFileAside() throws IOException {
        try (DirtyTracker t = open(true)) {
            mark(t, 1);
            t.closeEra();
            mark(t, 2);
        }
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve("dirty-1.bitmap").toFile(), "rw")) {
            raf.setLength(5000);
        }
        zero(dir.resolve("dirty-2.bitmap"), 60, 1); // the header's volume id
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(ALL);
            assertThat(t.dirtyRegions(2).getLongCardinality()).isEqualTo(ALL);
            assertThat(t.stateDamage()).extracting(StateDamage::file).containsExactly("dirty-1.bitmap", "dirty-2.bitmap");
            assertThat(t.stateDamage().get(0).cause()).contains("truncated");
            assertThat(t.stateDamage().get(1).cause()).contains("header checksum mismatch");
            t.markWrite(0, 1).toCompletableFuture().join(); // the recreated open era works
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".damaged-"))).hasSize(2);
        }
        try (DirtyTracker t = open(true)) {
            assertThat(t.stateDamage()).isEmpty();
        }
    }

    @Test
    void corruptErasFileMarksEveryRegionDirtyInEveryEraFound() throws IOException {
        try (DirtyTracker t = open(true)) {
            mark(t, 1);
            t.closeEra();
        }
        Files.writeString(dir.resolve("eras.json"), "{\"magic\":\"blockrep-eras\",\"format\":2,\"vol");
        try (DirtyTracker t = open(true)) {
            assertThat(t.pendingEras()).containsExactly(1L, 2L);
            assertThat(t.openEra()).isEqualTo(3);
            assertThat(t.dirtyRegionCount()).isEqualTo(2 * ALL);
            assertThat(t.stateDamage()).singleElement().satisfies(d -> {
                assertThat(d.file()).isEqualTo("eras.json");
                assertThat(d.cause()).contains("not JSON");
            });
        }
        try (DirtyTracker t = open(true)) {
            assertThat(t.stateDamage()).as("eras.json was rewritten").isEmpty();
            assertThat(t.pendingEras()).containsExactly(1L, 2L);
        }
    }

    @Test
    void corruptErasFileWithNoBitmapsLeftMarksEveryRegionDirtyInTheOpenEra() throws IOException {
        open(true).close();
        Files.delete(dir.resolve("dirty-1.bitmap"));
        Files.writeString(dir.resolve("eras.json"), "garbage");
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegions(t.openEra()).getLongCardinality()).isEqualTo(ALL);
            assertThat(t.stateDamage()).hasSize(1);
        }
    }

    @Test
    void damagedActivityPageMakesItsRegionsHotSoDirty() throws IOException {
        DirtyTracker t = open(true);
        t.markHot(3L * R, R).toCompletableFuture().join();
        t.abandon();
        zero(dir.resolve(DirtyTracker.ACTIVITY_FILE), 4096 + 2 * 4096 + 100, 2); // page 2
        try (DirtyTracker after = open(false)) {
            assertThat(after.dirtyRegions(1).contains(3)).isTrue();
            assertThat(after.dirtyRegions(1).getLongCardinality()).isEqualTo(1 + ALL - 65408);
            assertThat(after.stateDamage()).singleElement().satisfies(d -> assertThat(d.file()).isEqualTo("activity.bitmap"));
            assertThat(after.activity().hotRegions().isEmpty()).isTrue();
        }
    }

    @Test
    void truncatedActivityLogMakesEveryRegionHotSoDirty() throws IOException {
        open(true).close();
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve(DirtyTracker.ACTIVITY_FILE).toFile(), "rw")) {
            raf.setLength(100);
        }
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(ALL);
            assertThat(t.recoveredHotRegions().getLongCardinality()).isEqualTo(ALL);
            assertThat(t.stateDamage()).singleElement().satisfies(d -> assertThat(d.cause()).contains("truncated"));
        }
    }

    @Test
    void missingActivityLogAfterACleanStopIsRecreatedEmpty() throws IOException {
        open(true).close();
        Files.delete(dir.resolve(DirtyTracker.ACTIVITY_FILE));
        try (DirtyTracker t = open(true)) {
            assertThat(t.dirtyRegionCount()).isZero();
            assertThat(t.stateDamage()).isEmpty();
        }
    }

    @Test
    void missingActivityLogAfterAnUncleanStopMakesEveryRegionDirtyButNotExcludedOnes() throws IOException {
        ExcludedRanges swap = ExcludedRanges.parse("0-" + 1000L * R);
        DirtyTracker.open(dir, META, "site-a", swap, 1, true).close();
        Files.delete(dir.resolve(DirtyTracker.ACTIVITY_FILE));
        try (DirtyTracker t = DirtyTracker.open(dir, META, "site-a", swap, 1, false)) {
            assertThat(t.dirtyRegions(1).getLongCardinality()).isEqualTo(ALL - 1000);
            assertThat(t.dirtyRegions(1).contains(999)).isFalse();
            assertThat(t.stateDamage()).singleElement().satisfies(d -> {
                assertThat(d.cause()).isEqualTo("is missing after an unclean stop");
                assertThat(d.action()).contains("HOT_AFTER_CRASH");
                assertThat(d.regions()).isEqualTo(ALL - 1000);
            });
        }
    }

    @Test
    void aNewVolumeIsNotDamage() {
        try (DirtyTracker t = open(false)) {
            assertThat(t.stateDamage()).isEmpty();
            assertThat(t.dirtyRegionCount()).isZero();
        }
    }

    @Test
    void version1FilesAreUpgradedWithoutLosingABit() throws IOException {
        try (DirtyTracker t = open(true)) {
            mark(t, 40_000);
        }
        // rewrite dirty-1.bitmap and eras.json as the previous build wrote them
        Path bitmap = dir.resolve("dirty-1.bitmap");
        byte[] v1 = new byte[4096 + 3 * 4096]; // version 1: 1094 words in 512-word pages
        byte[] header = java.util.Arrays.copyOf(Files.readAllBytes(bitmap), 4096);
        header[8] = 1;
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(header, 0, 4092);
        java.nio.ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4092, (int) crc.getValue());
        System.arraycopy(header, 0, v1, 0, 4096);
        v1[4096 + 40_000 / 8] = (byte) (1 << (40_000 % 8));
        Files.write(bitmap, v1);
        Files.writeString(dir.resolve("eras.json"), "{\"format\":1,\"volume\":\"vol\",\"node\":\"site-a\",\"openEra\":1,\"closedEras\":[]}");
        try (DirtyTracker t = open(true)) {
            assertThat(t.stateDamage()).isEmpty();
            assertThat(t.dirtyRegions(1).toArray()).containsExactly(40_000);
        }
        assertThat(Files.size(bitmap)).isEqualTo(BitmapFile.fileSize(ALL));
        assertThat(Files.readString(dir.resolve("eras.json"))).contains("\"format\":2");
    }

    private static void zero(Path file, long offset, int length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            byte[] b = new byte[length];
            raf.readFully(b);
            for (int i = 0; i < length; i++) {
                b[i] = (byte) ~b[i];
            }
            raf.seek(offset);
            raf.write(b);
        }
    }
}
