package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.testkit.Tmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12, seen 3: with the state directory full when an era closed, the half-made bitmap of the
 * next era stayed behind, and after space was freed every retry failed with "it already exists"
 * until a restart. A failed close now leaves nothing behind, and a retry succeeds once there is room.
 */
class EraCloseOutOfSpaceIT {
    private static final int REGION = 4096;

    @TempDir
    Path dir;

    @Test
    void anEraCloseThatRanOutOfSpaceLeavesNothingBehindAndSucceedsOnceThereIsRoom() throws IOException {
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("state"), 1 << 20)) {
            VolumeStore store = new VolumeStore(fs.path());
            // 2 Mi regions: a bitmap of 256 KiB, so the next era's file does not fit once the filler is written
            VolumeMetadata meta = store.create("vol", dir.resolve("data.img"), 2L * 1024 * 1024 * REGION, REGION, Role.PRIMARY);
            try (DirtyTracker tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", ExcludedRanges.parse(""), 1)) {
                tracker.markWrite(0, REGION).toCompletableFuture().join();
                Path filler = fs.path().resolve("filler");
                fill(filler);
                assertThatThrownBy(tracker::closeEra).isInstanceOf(FatalException.class).hasMessageContaining("No space left");
                assertThat(bitmaps(store.volumeDir("vol"))).as("no half-made bitmap of era 2").containsExactly("dirty-1.bitmap");
                assertThat(tracker.openEra()).isEqualTo(1);
                assertThat(tracker.dirtyRegionCount()).isEqualTo(1);

                Files.delete(filler);
                assertThat(tracker.closeEra()).as("the retry succeeds once there is room").isEqualTo(1);
                assertThat(tracker.openEra()).isEqualTo(2);
                assertThat(tracker.dirtyRegions(1).getLongCardinality()).isEqualTo(1);
            }
        }
    }

    private static void fill(Path filler) throws IOException {
        byte[] chunk = new byte[64 << 10];
        try (var out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            // the tmpfs is full
        }
    }

    private static java.util.List<String> bitmaps(Path volumeDir) throws IOException {
        try (Stream<Path> files = Files.list(volumeDir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("dirty-")).sorted().toList();
        }
    }
}
