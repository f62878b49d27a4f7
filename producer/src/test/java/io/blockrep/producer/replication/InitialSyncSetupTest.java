package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.InitialSync;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitialSyncSetupTest {
    private static final int R = 64 << 10;
    private static final long SIZE = 64L * R;

    @TempDir
    Path dir;

    /** Data in regions 3, 10 (one byte at its end) and 63; written zeros in region 20; holes elsewhere. */
    private Path image() throws IOException {
        Path file = dir.resolve("existing.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
            f.seek(3L * R + 17);
            f.write(new byte[] {1, 2, 3});
            f.seek(11L * R - 1);
            f.write(9);
            f.seek(20L * R);
            f.write(new byte[R]);
            f.seek(63L * R);
            f.write(7);
        }
        return file;
    }

    private static final class Touches implements VolumeObserver {
        final List<Long> regions = new ArrayList<>();
        final List<DirtyCause> causes = new ArrayList<>();
        final List<Mode> modes = new ArrayList<>();

        @Override
        public void firstTouch(String volume, long era, long region, long timeMillis, DirtyCause cause) {
            regions.add(region);
            causes.add(cause);
        }

        @Override
        public void modeChanged(String volume, Mode from, Mode to, String reason) {
            modes.add(to);
        }

        @Override
        public void eraClosed(String volume, long era, long regionCount) {
        }
    }

    @Test
    void marksExactlyTheRegionsHoldingDataThenRunsAndIsDoneAtReplicating() throws IOException {
        VolumeStore store = new VolumeStore(dir.resolve("state"));
        VolumeMetadata meta = store.create(new VolumeStore.NewVolume("vol", image(), SIZE, R, Role.PRIMARY, "site-a", false));
        assertThat(meta.initialSync()).isEqualTo(InitialSync.PENDING);
        Touches touches = new Touches();
        try (Volume volume = Volume.open(meta, false);
             DirtyTracker tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", ExcludedRanges.NONE)) {
            VolumeHandle handle = new VolumeHandle(volume, meta, store);
            long marked = InitialSyncSetup.beforeStart(handle, tracker, touches, "site-a", Clock.systemUTC());

            assertThat(marked).isEqualTo(3);
            assertThat(tracker.dirtyRegions(tracker.openEra()).toArray()).containsExactly(3, 10, 63);
            assertThat(touches.regions).containsExactly(3L, 10L, 63L);
            assertThat(touches.causes).containsOnly(DirtyCause.INITIAL_SYNC);
            assertThat(store.load("vol").initialSync()).isEqualTo(InitialSync.running(3));
            // Once RUNNING, a restart scans nothing again: the bits are the record of what is left.
            assertThat(InitialSyncSetup.beforeStart(handle, tracker, touches, "site-a", Clock.systemUTC())).isZero();

            VolumeObserver observer = InitialSyncSetup.completing(touches, handle, true, "site-a", Clock.systemUTC());
            observer.modeChanged("vol", Mode.LOGGING, Mode.RESYNCING, "link restored");
            assertThat(store.load("vol").initialSync().phase()).isEqualTo(InitialSync.Phase.RUNNING);
            observer.modeChanged("vol", Mode.CUTOVER, Mode.REPLICATING, "cutover complete");
            assertThat(store.load("vol").initialSync()).isEqualTo(InitialSync.NONE);
            assertThat(touches.modes).containsExactly(Mode.RESYNCING, Mode.REPLICATING);
        }
    }

    @Test
    void aStandalonePrimaryIsPendingInItsOwnGenerationSoALaterPeerIsSynced() throws IOException {
        VolumeStore store = new VolumeStore(dir.resolve("state"));
        VolumeMetadata meta = store.create(new VolumeStore.NewVolume("vol", null, SIZE, R, Role.PRIMARY, "site-a", false));
        assertThat(meta.initialSync()).isEqualTo(InitialSync.NONE);
        try (Volume volume = Volume.open(meta, false)) {
            VolumeHandle handle = new VolumeHandle(volume, meta, store);
            InitialSyncSetup.beforeStart(handle, null, VolumeObserver.NONE, "site-a", Clock.systemUTC());
            VolumeMetadata after = store.load("vol");
            assertThat(after.initialSync()).isEqualTo(InitialSync.PENDING);
            assertThat(after.generations().currentId()).isNotEqualTo(Generation.CREATED);
            assertThat(after.generations().contains(Generation.CREATED)).as("a fresh peer is older, not unrelated").isTrue();
            // A second STANDALONE start changes nothing.
            InitialSyncSetup.beforeStart(handle, null, VolumeObserver.NONE, "site-a", Clock.systemUTC());
            assertThat(store.load("vol")).isEqualTo(after);
        }
    }

    @Test
    void aSecondaryIsLeftAloneUntilItIsPromotedWithoutAPeer() throws IOException {
        VolumeStore store = new VolumeStore(dir.resolve("state"));
        VolumeMetadata meta = store.create(new VolumeStore.NewVolume("vol", null, SIZE, R, Role.SECONDARY, "site-b", false));
        try (Volume volume = Volume.open(meta, false)) {
            VolumeHandle handle = new VolumeHandle(volume, meta, store);
            InitialSyncSetup.beforeStart(handle, null, VolumeObserver.NONE, "site-b", Clock.systemUTC());
            assertThat(store.load("vol")).isEqualTo(meta);

            handle.update(m -> m.withRole(Role.PRIMARY));
            InitialSyncSetup.completing(VolumeObserver.NONE, handle, false, "site-b", Clock.systemUTC())
                    .roleChanged("vol", Role.SECONDARY, Role.PRIMARY, "promoted");
            assertThat(store.load("vol").initialSync()).as("STANDALONE writes are not tracked").isEqualTo(InitialSync.PENDING);
            assertThat(store.load("vol").generations().current().nodeId()).isEqualTo("site-b");
        }
    }

    @Test
    void theCompletingObserverForwardsEveryCallOfTheInterface() throws Exception {
        VolumeObserver wrapper = InitialSyncSetup.completing(VolumeObserver.NONE, null, true, "site-a", Clock.systemUTC());
        for (java.lang.reflect.Method m : VolumeObserver.class.getMethods()) {
            if (!java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                assertThat(wrapper.getClass().getMethod(m.getName(), m.getParameterTypes()).getDeclaringClass())
                        .as("%s is forwarded, not left to the interface's default", m.getName()).isEqualTo(wrapper.getClass());
            }
        }
    }
}
