package io.blockrep.common.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumeStoreTest {
    @TempDir
    Path dir;

    @Test
    void createsSparseFileAndMetadataThatRoundTrip() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol-1", null, 1L << 30, 65536, Role.PRIMARY);
        assertThat(Files.size(meta.path())).isEqualTo(1L << 30);
        assertThat((Long) Files.getAttribute(meta.path(), "unix:size")).isEqualTo(1L << 30);
        assertThat(store.load("vol-1")).isEqualTo(meta);
        assertThat(store.list()).containsExactly("vol-1");
        assertThat(Files.exists(store.metadataFile("vol-1").resolveSibling("volume.json.tmp"))).isFalse();
    }

    @Test
    void refusesDuplicatesBadIdsAndResizingAnExistingFile() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        store.create("a", null, 1 << 20, 4096, Role.PRIMARY);
        assertThatThrownBy(() -> store.create("a", null, 1 << 20, 4096, Role.PRIMARY))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> store.create("Bad_Id", null, 1000, 3, Role.PRIMARY))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).hasSize(3));
        Path existing = dir.resolve("existing.img");
        Files.write(existing, new byte[8192]);
        assertThatThrownBy(() -> store.create("b", existing, 1 << 20, 4096, Role.PRIMARY))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("refusing to resize");
        assertThat(Files.size(existing)).isEqualTo(8192);
    }

    @Test
    void corruptMetadataIsAFatalErrorNamingTheFile() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        store.create("c", null, 1 << 20, 4096, Role.SECONDARY);
        Files.writeString(store.metadataFile("c"), "{\"magic\":\"blockrep-volume\",\"format\":1,\"size\":\"x\"");
        assertThatThrownBy(() -> store.load("c")).isInstanceOf(FatalException.class).hasMessageContaining("volume.json");
    }

    private static VolumeMetadata golden(InitialSync initialSync) {
        GenerationHistory history = new GenerationHistory(List.of(new Generation(0x1234_5678_9abc_def0L, "site-b", 1_700_000_000_000L),
                Generation.created()), Generation.CREATED, false);
        return new VolumeMetadata("golden", Path.of("/var/lib/blockrep/golden.img"),
                new RegionGeometry(1L << 30, 65536), Role.PRIMARY, history, false, initialSync);
    }

    @Test
    void metadataLayoutMatchesGoldenFile() throws IOException {
        // volume-v4.json is written by golden/make-volume-v4.py (its own CRC32C), not by this code
        Path golden = Path.of("src/test/resources/golden/volume-v4.json");
        VolumeMetadata meta = golden(InitialSync.running(1234));
        Path written = dir.resolve("volume.json");
        VolumeMetadataFile.write(written, meta);
        assertThat(Files.readString(written, StandardCharsets.UTF_8)).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
        assertThat(VolumeMetadataFile.read(golden)).isEqualTo(meta);
    }

    @Test
    void formatThreeWithoutAChecksumIsStillRead() {
        assertThat(VolumeMetadataFile.read(Path.of("src/test/resources/golden/volume-v3.json"))).isEqualTo(golden(InitialSync.running(1234)));
    }

    /** Issue #12, deliver 1: a flipped digit in a field that still parses (here the role's generation) is refused, not trusted. */
    @Test
    void aChangedFieldThatStillParsesFailsTheChecksum() throws IOException {
        String v4 = Files.readString(Path.of("src/test/resources/golden/volume-v4.json"), StandardCharsets.UTF_8);
        for (String[] edit : new String[][] {{"123456789abcdef0", "123456789abcdef1"}, {"\"size\" : 1073741824", "\"size\" : 1073741825"},
                {"\"role\" : \"PRIMARY\"", "\"role\" : \"SECONDARY\""}, {"\"consistent\" : false", "\"consistent\" : true"}}) {
            Path file = dir.resolve("edited.json");
            Files.writeString(file, v4.replace(edit[0], edit[1]), StandardCharsets.UTF_8);
            assertThatThrownBy(() -> VolumeMetadataFile.read(file)).as(edit[1]).isInstanceOf(FatalException.class)
                    .hasMessageContaining("checksum mismatch").hasMessageContaining(file.toString());
        }
        Path stripped = dir.resolve("stripped.json");
        Files.writeString(stripped, v4.replace(",\n  \"crc32c\" : \"f07e06fb\"", ""), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> VolumeMetadataFile.read(stripped)).isInstanceOf(FatalException.class).hasMessageContaining("without its crc32c");
    }

    @Test
    void formatTwoReadsWithNoInitialSync() {
        assertThat(VolumeMetadataFile.read(Path.of("src/test/resources/golden/volume-v2.json"))).isEqualTo(golden(InitialSync.NONE));
    }

    private Path imageWithData(String name, long size, long dataAt) throws IOException {
        Path file = dir.resolve(name);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
            if (dataAt >= 0) {
                f.seek(dataAt);
                f.write(0x5a);
            }
        }
        return file;
    }

    @Test
    void aPrimaryOverExistingDataStartsInItsOwnGenerationWithItsInitialSyncPending() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create(new VolumeStore.NewVolume("p", imageWithData("p.img", 4 << 20, (3 << 20) + 7), 4 << 20, 65536,
                Role.PRIMARY, "site-a", false));
        assertThat(meta.initialSync()).isEqualTo(InitialSync.PENDING);
        assertThat(meta.generations().currentId()).isNotEqualTo(Generation.CREATED);
        assertThat(meta.generations().current().nodeId()).isEqualTo("site-a");
        assertThat(meta.generations().shared()).isFalse();
        // A fresh peer (generation CREATED) is older: it is synced from this copy.
        assertThat(SyncDecision.decide(meta.generations(), GenerationHistory.created())).isEqualTo(SyncDecision.LOCAL_NEWER);
        assertThat(store.load("p")).isEqualTo(meta);
    }

    @Test
    void aSecondaryOverExistingDataIsUnrelatedToAnyPrimary() throws IOException {
        VolumeMetadata meta = new VolumeStore(dir).create(new VolumeStore.NewVolume("s", imageWithData("s.img", 1 << 20, 0), 1 << 20,
                4096, Role.SECONDARY, "site-b", false));
        assertThat(meta.initialSync()).isEqualTo(InitialSync.NONE);
        assertThat(SyncDecision.decide(GenerationHistory.created(), meta.generations())).isEqualTo(SyncDecision.UNRELATED);
        assertThat(SyncDecision.decide(GenerationHistory.created().diverge("site-a", 1), meta.generations())).isEqualTo(SyncDecision.UNRELATED);
    }

    @Test
    void holesAndZerosOrAssumeCleanEqualAFreshCopy() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        Path zeros = imageWithData("z.img", 2 << 20, -1);
        Files.write(zeros, new byte[65536], java.nio.file.StandardOpenOption.WRITE); // allocated zeros
        VolumeMetadata z = store.create(new VolumeStore.NewVolume("z", zeros, 2 << 20, 65536, Role.PRIMARY, "site-a", false));
        VolumeMetadata clean = store.create(new VolumeStore.NewVolume("c", imageWithData("c.img", 2 << 20, 100), 2 << 20, 65536,
                Role.PRIMARY, "site-a", true));
        VolumeMetadata fresh = store.create(new VolumeStore.NewVolume("f", null, 2 << 20, 65536, Role.SECONDARY, "site-b", false));
        for (VolumeMetadata m : List.of(z, clean, fresh)) {
            assertThat(m.generations()).as(m.id()).isEqualTo(GenerationHistory.created());
            assertThat(m.initialSync()).as(m.id()).isEqualTo(InitialSync.NONE);
        }
    }

    @Test
    void formatOneReadsAsCreatedGenerationAndConsistent() {
        VolumeMetadata meta = VolumeMetadataFile.read(Path.of("src/test/resources/golden/volume-v1.json"));
        assertThat(meta.generations()).isEqualTo(GenerationHistory.created());
        assertThat(meta.consistent()).isTrue();
        assertThat(meta.role()).isEqualTo(Role.PRIMARY);
    }

    @Test
    void volumeIoIsRangeCheckedAndWritesNothingOutside() throws IOException {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("io", null, 1 << 20, 4096, Role.PRIMARY);
        try (Volume v = Volume.open(meta, false)) {
            v.write(4096, ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer back = ByteBuffer.allocate(5);
            v.read(4096, back);
            assertThat(new String(back.array(), StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThatThrownBy(() -> v.write((1 << 20) - 2, ByteBuffer.allocate(4)))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("outside the volume");
            assertThat(Files.size(meta.path())).isEqualTo(1 << 20);
            v.writeZeroes(4096, 3 << 20 >> 2);
            back.clear();
            v.read(4096, back);
            assertThat(back.array()).containsOnly(0);
        }
        try (Volume ro = Volume.open(meta, true)) {
            assertThatThrownBy(() -> ro.write(0, ByteBuffer.allocate(1))).isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("read-only");
        }
    }
}
