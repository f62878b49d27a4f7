package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a volume keeps its generation history and role, against a scripted sink (no network). */
class ReplicatedVolumeGenerationTest {
    private static final int REGION = 64 << 10;

    @TempDir
    Path dir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private final ScriptedSink sink = new ScriptedSink();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        timer.shutdownNow();
    }

    /** Records the generations it is told; writes and flushes succeed. */
    static final class ScriptedSink implements ReplicaSink {
        final List<Boolean> inSync = new CopyOnWriteArrayList<>();
        final List<List<Generation>> histories = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> flush(String volume) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> generation(String volume, boolean sync, List<Generation> history) {
            inSync.add(sync);
            histories.add(history);
            return CompletableFuture.completedFuture(null);
        }
    }

    private ReplicatedVolume volume(Role role) {
        return volume(role, ReplicatedVolume.ResyncPolicy.DEFAULT);
    }

    private ReplicatedVolume volume(Role role, ReplicatedVolume.ResyncPolicy policy) {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.exists("vol") ? store.load("vol") : store.create("vol", null, 16L * REGION, REGION, role);
        Volume v = Volume.open(meta, false);
        open.add(v);
        DirtyTracker tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", ExcludedRanges.parse(""), 1);
        open.add(0, tracker);
        ReplicatedVolume.Services services = new ReplicatedVolume.Services("site-a", Clock.systemUTC(), Runnable::run, timer, policy);
        return new ReplicatedVolume(new VolumeHandle(v, meta, store), tracker, sink, VolumeObserver.NONE, services);
    }

    private static PeerView attached() {
        return new PeerView("site-b", true, LinkStatus.OK, "",
                new VolumeInfo("vol", 16L * REGION, REGION, Role.SECONDARY, GenerationHistory.created().entries()));
    }

    private static void write(ReplicatedVolume v, long offset) {
        v.write(offset, ByteBuffer.allocate(4096), false).toCompletableFuture().join();
    }

    private GenerationHistory persisted() {
        return new VolumeStore(dir).load("vol").generations();
    }

    @Test
    void theFirstLoggedWriteMakesOneNewGenerationDurablyAndLaterOnesDoNot() {
        ReplicatedVolume v = volume(Role.PRIMARY);
        assertThat(v.mode()).isEqualTo(Mode.LOGGING);
        assertThat(persisted()).isEqualTo(GenerationHistory.created());

        write(v, 0);
        GenerationHistory after = persisted();
        assertThat(after.currentId()).isNotEqualTo(Generation.CREATED);
        assertThat(after.current().nodeId()).isEqualTo("site-a");
        assertThat(after.shared()).isFalse();
        assertThat(after.bitmapGeneration()).isEqualTo(Generation.CREATED);
        assertThat(after.contains(Generation.CREATED)).isTrue();

        write(v, 5L * REGION);
        assertThat(persisted()).isEqualTo(after);
    }

    @Test
    void aResyncGoesOnWhileTheTailShrinksAndCutsOverOnceItNoLongerDoes() {
        ReplicatedVolume v = volume(Role.PRIMARY, new ReplicatedVolume.ResyncPolicy(true, 2, Duration.ofSeconds(30)));
        for (int r = 0; r < 6; r++) {
            write(v, r * (long) REGION);
        }
        v.linkRestored(attached());
        assertThat(v.mode()).isEqualTo(Mode.RESYNCING);
        long first = v.tracker().pendingEras().iterator().next();
        assertThat(v.tracker().dirtyRegions(first).getLongCardinality()).isEqualTo(6);

        for (int r = 6; r < 9; r++) {
            write(v, r * (long) REGION);
        }
        v.erasReplayed(new TreeMap<>(Map.of(first, 6L)), Map.of(first, v.tracker().dirtyRegions(first)));
        assertThat(v.mode()).as("3 regions left, fewer than the 6 just copied: another pass").isEqualTo(Mode.RESYNCING);
        long second = v.tracker().pendingEras().iterator().next();
        assertThat(v.tracker().dirtyRegions(second).getLongCardinality()).isEqualTo(3);

        for (int r = 9; r < 13; r++) {
            write(v, r * (long) REGION);
        }
        v.erasReplayed(new TreeMap<>(Map.of(second, 3L)), Map.of(second, v.tracker().dirtyRegions(second)));
        assertThat(v.mode()).as("4 regions left, no fewer than the 3 just copied: cut over although above the threshold of 2")
                .isEqualTo(Mode.CUTOVER);
    }

    @Test
    void replicatingAgainSharesTheGenerationAndTellsThePeerToAdoptIt() {
        ReplicatedVolume v = volume(Role.PRIMARY);
        v.linkRestored(attached());
        assertThat(v.mode()).isEqualTo(Mode.REPLICATING);
        assertThat(sink.inSync).containsExactly(true);
        assertThat(sink.histories.get(0)).isEqualTo(persisted().entries());
        assertThat(persisted().shared()).isTrue();

        // Mirrored writes do not make a generation: the peer has them.
        write(v, 0);
        assertThat(persisted()).isEqualTo(GenerationHistory.created());
    }

    @Test
    void aPrimaryStartedWithDirtyRegionsDoesNotShareThePeersGeneration() {
        ReplicatedVolume first = volume(Role.PRIMARY);
        write(first, 0);
        GenerationHistory diverged = persisted();
        // Pretend the metadata claimed shared (an older build) while the bitmap holds dirty regions.
        new VolumeStore(dir).save(new VolumeStore(dir).load("vol").withGenerations(diverged.markShared()));
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        open.clear();
        volume(Role.PRIMARY);
        assertThat(persisted().shared()).isFalse();
        assertThat(persisted().currentId()).isNotEqualTo(diverged.currentId());
    }

    @Test
    void aSecondaryRefusesWritesUntilPromotedAndTheRoleIsPersistedFirst() throws Exception {
        ReplicatedVolume v = volume(Role.SECONDARY);
        assertThat(v.mode()).isEqualTo(Mode.SECONDARY);
        assertThat(v.readOnly()).isTrue();
        assertThatThrownBy(() -> write(v, 0)).hasCauseInstanceOf(VolumeReadOnlyException.class);

        v.promote(false, "test");
        assertThat(new VolumeStore(dir).load("vol").role()).isEqualTo(Role.PRIMARY);
        assertThat(v.mode()).isEqualTo(Mode.LOGGING);
        assertThat(v.readOnly()).isFalse();
        write(v, 0);
        assertThat(persisted().shared()).isFalse();

        assertThat(v.demote("test")).isEqualTo(1);
        assertThat(new VolumeStore(dir).load("vol").role()).isEqualTo(Role.SECONDARY);
        assertThat(v.mode()).isEqualTo(Mode.SECONDARY);
        assertThatThrownBy(() -> v.demote("again")).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void anInconsistentSecondaryIsPromotedOnlyByForce() {
        ReplicatedVolume v = volume(Role.SECONDARY);
        GenerationHistory primary = GenerationHistory.created().diverge("site-b", 5);
        v.peerGeneration(false, primary.entries());
        assertThat(new VolumeStore(dir).load("vol").consistent()).isFalse();
        assertThatThrownBy(() -> v.promote(false, "test")).isInstanceOf(InvalidInputException.class).hasMessageContaining("inconsistent");

        v.peerGeneration(true, primary.entries());
        VolumeMetadata meta = new VolumeStore(dir).load("vol");
        assertThat(meta.consistent()).isTrue();
        assertThat(meta.generations().entries()).isEqualTo(primary.entries());
        assertThat(meta.generations().shared()).isTrue();
        v.promote(false, "test");
        assertThat(v.role()).isEqualTo(Role.PRIMARY);
    }
}
