package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay reports drop exactly the eras they name, and only when each era's marker count matches the
 * facility's own bitmap of it (issue #11, "a replay report drops eras by number alone"). Against a
 * scripted sink, no network: two pending eras, {@code first} with 6 regions and {@code second} with 2.
 */
class ReplicatedVolumeReplayReportTest {
    private static final int REGION = 64 << 10;

    @TempDir
    Path dir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private ReplicatedVolume v;
    private long first;
    private long second;

    @BeforeEach
    void twoPendingEras() {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol", null, 16L * REGION, REGION, Role.PRIMARY);
        Volume volume = Volume.open(meta, false);
        open.add(volume);
        DirtyTracker tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", ExcludedRanges.parse(""), 1);
        open.add(0, tracker);
        ReplicatedVolume.Services services = new ReplicatedVolume.Services("site-a", Clock.systemUTC(), Runnable::run, timer,
                new ReplicatedVolume.ResyncPolicy(true, 2, Duration.ofSeconds(30)));
        v = new ReplicatedVolume(new VolumeHandle(volume, meta, store), tracker, new ReplicatedVolumeGenerationTest.ScriptedSink(),
                VolumeObserver.NONE, services);
        for (int r = 0; r < 6; r++) {
            write(r);
        }
        v.linkRestored(attached());
        write(6);
        write(7);
        v.linkDown("cut by the test");
        v.linkRestored(attached()); // a second resync closes the second era before the first was replayed
        assertThat(v.mode()).isEqualTo(Mode.RESYNCING);
        assertThat(v.tracker().pendingEras()).hasSize(2);
        first = v.tracker().pendingEras().get(0);
        second = v.tracker().pendingEras().get(1);
        assertThat(v.tracker().dirtyRegions(first).getLongCardinality()).isEqualTo(6);
        assertThat(v.tracker().dirtyRegions(second).getLongCardinality()).isEqualTo(2);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        timer.shutdownNow();
    }

    private static PeerView attached() {
        return new PeerView("site-b", true, LinkStatus.OK, "",
                new VolumeInfo("vol", 16L * REGION, REGION, Role.SECONDARY, GenerationHistory.created().entries()));
    }

    private void write(int region) {
        v.write(region * (long) REGION, ByteBuffer.allocate(4096), false).toCompletableFuture().join();
    }

    private static SortedMap<Long, Long> report(long... eraAndCount) {
        SortedMap<Long, Long> m = new TreeMap<>();
        for (int i = 0; i < eraAndCount.length; i += 2) {
            m.put(eraAndCount[i], eraAndCount[i + 1]);
        }
        return m;
    }

    @Test
    void aReportOfTheLaterEraDoesNotDropTheEarlierOneItDidNotName() {
        v.erasReplayed(report(second, 2), copiedAll(v));
        assertThat(v.tracker().pendingEras()).as("era %d was not reported", first).containsExactly(first);
        assertThat(v.tracker().dirtyRegions(first).getLongCardinality()).isEqualTo(6);
        assertThat(v.mode()).as("an era is still pending: wait, no cutover").isEqualTo(Mode.RESYNCING);
        long openBefore = v.tracker().openEra();

        v.erasReplayed(report(first, 6), copiedAll(v));
        assertThat(v.tracker().pendingEras()).doesNotContain(first, second);
        assertThat(v.tracker().openEra()).as("nothing pending: the resync moves on (here: cutover)").isGreaterThan(openBefore);
    }

    @Test
    void aReportWhoseCountDiffersFromTheErasBitmapIsRefusedAndDropsNothing() {
        assertThatThrownBy(() -> v.erasReplayed(report(first, 5, second, 2), copiedAll(v)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("nothing dropped")
                .hasMessageContaining("era " + first + ": the report counts 5 region(s), this facility's bitmap of the era holds 6");
        assertThat(v.tracker().pendingEras()).containsExactly(first, second);
        assertThat(v.mode()).isEqualTo(Mode.RESYNCING);
    }

    @Test
    void aReportNamingAnEraThatIsNotPendingIsRefusedWholeAndDropsNothing() {
        long openEra = v.tracker().openEra();
        assertThatThrownBy(() -> v.erasReplayed(report(second, 2, openEra, 0), copiedAll(v)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("era " + openEra + " is not closed");
        assertThatThrownBy(() -> v.erasReplayed(report(first - 1, 0, second, 2), copiedAll(v)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("era " + (first - 1) + " is not pending");
        assertThatThrownBy(() -> v.erasReplayed(new TreeMap<>(), copiedAll(v)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("names no era");
        assertThat(v.tracker().pendingEras()).containsExactly(first, second);

        // A report repeated after it was applied (a replayer that crashed before it recorded it) changes nothing.
        v.erasReplayed(report(first, 6), copiedAll(v));
        long openAfter = v.tracker().openEra();
        assertThatThrownBy(() -> v.erasReplayed(report(first, 6), copiedAll(v)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("era " + first + " is not pending (already dropped");
        assertThat(v.tracker().pendingEras()).containsExactly(second);
        assertThat(v.tracker().openEra()).isEqualTo(openAfter);
        assertThat(v.mode()).isEqualTo(Mode.RESYNCING);
    }

    @Test
    void regionsReportedCopiedByAKilledReplayerCountForTheReportOfTheOneThatResumes() {
        org.roaringbitmap.RoaringBitmap era1 = v.tracker().dirtyRegions(first);
        org.roaringbitmap.RoaringBitmap half = new org.roaringbitmap.RoaringBitmap();
        era1.forEach((org.roaringbitmap.IntConsumer) r -> {
            if (half.getCardinality() < 3) {
                half.add(r);
            }
        });
        // The first replayer acknowledged half of the era, recorded it here, and died before its report.
        v.regionsCopied(java.util.Map.of(first, half, v.tracker().openEra(), era1));
        assertThat(v.tracker().pendingEras()).as("progress drops nothing").containsExactly(first, second);

        // The next one copies only the regions still live in the dirty topic, and reports just those.
        v.erasReplayed(report(first, 6), java.util.Map.of(first, org.roaringbitmap.RoaringBitmap.andNot(era1, half)));
        assertThat(v.tracker().pendingEras()).containsExactly(second);
    }

    @Test
    void withoutRecordedProgressAReportOfHalfAnEraIsStillRefused() {
        org.roaringbitmap.RoaringBitmap era1 = v.tracker().dirtyRegions(first);
        org.roaringbitmap.RoaringBitmap rest = era1.clone();
        rest.remove(era1.first());
        assertThatThrownBy(() -> v.erasReplayed(report(first, 6), java.util.Map.of(first, rest)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("were not reported copied");
        assertThat(v.tracker().pendingEras()).containsExactly(first, second);
    }

    /** Every region of every pending era, as a replayer that copied them all reports it. */
    private static java.util.Map<Long, org.roaringbitmap.RoaringBitmap> copiedAll(ReplicatedVolume v) {
        java.util.Map<Long, org.roaringbitmap.RoaringBitmap> all = new java.util.HashMap<>();
        for (long era : v.tracker().pendingEras()) {
            all.put(era, v.tracker().dirtyRegions(era));
        }
        return all;
    }
}
