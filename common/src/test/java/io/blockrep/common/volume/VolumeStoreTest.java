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

    @Test
    void metadataLayoutMatchesGoldenFile() throws IOException {
        Path golden = Path.of("src/test/resources/golden/volume-v2.json");
        GenerationHistory history = new GenerationHistory(List.of(new Generation(0x1234_5678_9abc_def0L, "site-b", 1_700_000_000_000L),
                Generation.created()), Generation.CREATED, false);
        VolumeMetadata meta = new VolumeMetadata("golden", Path.of("/var/lib/blockrep/golden.img"),
                new RegionGeometry(1L << 30, 65536), Role.PRIMARY, history, false);
        Path written = dir.resolve("volume.json");
        VolumeMetadataFile.write(written, meta);
        assertThat(Files.readString(written, StandardCharsets.UTF_8)).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
        assertThat(VolumeMetadataFile.read(golden)).isEqualTo(meta);
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
