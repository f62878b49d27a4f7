package io.blockrep.replayer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.RetriableException;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.copy.RateLimiter;
import io.blockrep.replayer.copy.ReplayedRegions;
import io.blockrep.replayer.copy.ReplicaTarget;
import io.blockrep.replayer.copy.SourceReader;
import io.blockrep.replayer.copy.VolumeCopier;
import io.blockrep.replayer.index.DirtySetIndex;
import io.blockrep.replayer.plan.Extent;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.codec.Codecs;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/**
 * The engine takes the direction from the dirty records: whichever node has ready closed eras is the
 * source. The same engine instance, and the same code, copies site-a→site-b and then site-b→site-a.
 * The nodes are in memory; the copier, planner and index are the real ones, and tombstones are fed
 * back into the index as the dirty topic would.
 */
class ReplayEngineTest {
    private static final String VOLUME = "vol";
    private static final int REGION = 4096;
    private static final int REGIONS = 64;
    private static final long SIZE = (long) REGION * REGIONS;
    private static final VolumeNodes PAIR = new VolumeNodes(VOLUME, List.of("site-a", "site-b"));

    private final DirtySetIndex index = new DirtySetIndex();
    private final Map<String, byte[]> disks = new HashMap<>();
    private final List<String> reports = new ArrayList<>();
    /** The regions each report said were copied, per era. */
    private final List<Map<Long, RoaringBitmap>> copiedReports = new ArrayList<>();
    private final List<String> tombstoned = new ArrayList<>();
    private final List<String> calls = new ArrayList<>();
    /** Each node's facility: its pending eras with their region counts, and its open era. */
    private final Map<String, TreeMap<Long, Long>> facilityPending = new HashMap<>();
    private final Map<String, Long> facilityOpenEra = new HashMap<>();
    /** When set, tombstones are acknowledged but reach the index only when the test delivers them (a lagging reader). */
    private boolean indexLags;
    private final List<ConsumerRecord<byte[], byte[]>> unread = new ArrayList<>();
    private ReplayEngine engine;
    private long offset;

    @BeforeEach
    void nodes() {
        Random random = new Random(5);
        byte[] a = new byte[(int) SIZE];
        random.nextBytes(a);
        disks.put("site-a", a);
        disks.put("site-b", a.clone());
        ReplayedRegions replayed = new ReplayedRegions() {
            @Override
            public CompletableFuture<Void> tombstone(String volume, String node, long era, RoaringBitmap regions) {
                tombstoned.add(node + "/" + era + "/" + regions);
                regions.forEach((int r) -> deliver(record(DirtyKey.region(volume, node, era, r).bytes(), null)));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<Void> tombstoneMarker(String volume, String node, long era) {
                deliver(record(DirtyKey.eraClosed(volume, node, era).bytes(), null));
                return CompletableFuture.completedFuture(null);
            }
        };
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(4 * REGION, 8 * REGION, false, 5000), replayed, RateLimiter.of(0));
        engine = new ReplayEngine(copier, replayed, new MemoryNodes());
    }

    /** Each node's disk is a byte array: read as a source, written as a target. */
    private final class MemoryNodes implements ReplayEngine.Nodes {
        @Override
        public SourceReader source(String volume, String node) {
            calls.add("read " + node);
            return (v, extents) -> {
                List<ByteBuffer> out = new ArrayList<>();
                for (Extent e : extents) {
                    out.add(ByteBuffer.wrap(Arrays.copyOfRange(disks.get(node), (int) e.offset(), (int) (e.offset() + e.length()))));
                }
                return CompletableFuture.completedFuture(out);
            };
        }

        @Override
        public ReplicaTarget target(String volume, String node) {
            calls.add("write " + node);
            return new ReplicaTarget() {
                @Override
                public CompletionStage<Void> sendDataSet(String v, long setId, List<ExtentData> extents) {
                    for (ExtentData e : extents) {
                        e.data().duplicate().get(disks.get(node), (int) e.offset(), e.data().remaining());
                    }
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public CompletionStage<List<byte[]>> hashes(String v, long offset, long length, int blockSize) {
                    throw new UnsupportedOperationException("skip.identical is off");
                }
            };
        }

        /** As a facility does: drops the named eras if each is pending with that count, else refuses and drops nothing. */
        @Override
        public void erasReplayed(String volume, String node, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied) {
            reports.add(node + " " + regionCountByEra);
            copiedReports.add(new TreeMap<>(copied));
            TreeMap<Long, Long> pending = facilityPending(node);
            List<String> problems = new ArrayList<>();
            regionCountByEra.forEach((era, count) -> {
                if (!count.equals(pending.get(era))) {
                    problems.add("era " + era + (pending.containsKey(era) ? " holds " + pending.get(era) : " is not pending"));
                }
            });
            if (!problems.isEmpty()) {
                throw new FacilityClient.ReplayReportRefusedException("refused, nothing dropped: " + String.join("; ", problems));
            }
            pending.keySet().removeAll(regionCountByEra.keySet());
        }

        @Override
        public FacilityClient.FacilityEras eras(String volume, String node) {
            return new FacilityClient.FacilityEras(facilityOpenEra.getOrDefault(node, 1L), List.copyOf(facilityPending(node).keySet()));
        }
    }

    private TreeMap<Long, Long> facilityPending(String node) {
        return facilityPending.computeIfAbsent(node, n -> new TreeMap<>());
    }

    private void deliver(ConsumerRecord<byte[], byte[]> r) {
        if (indexLags) {
            unread.add(r);
        } else {
            index.apply(r);
        }
    }

    private ConsumerRecord<byte[], byte[]> record(byte[] key, byte[] value) {
        return new ConsumerRecord<>("blockrep.dirty", 0, offset++, key, value);
    }

    /** A facility logging on {@code node}: writes {@code fill} to its disk at the regions and records them in era {@code era}. */
    private void logged(String node, long era, byte fill, int... regions) {
        for (int r : regions) {
            Arrays.fill(disks.get(node), r * REGION, (r + 1) * REGION, fill);
            index.apply(record(DirtyKey.region(VOLUME, node, era, r).bytes(),
                    Codecs.DIRTY_REGION.encode(new DirtyRegion(1000L + r, REGION, SIZE, DirtyCause.LOGGED_WRITE))));
        }
    }

    /** {@code node}'s facility closes {@code era} with {@code count} regions and publishes its marker. */
    private void eraClosed(String node, long era, long count) {
        facilityPending(node).put(era, count);
        facilityOpenEra.merge(node, era + 1, Math::max);
        marker(node, era, count);
    }

    private void marker(String node, long era, long count) {
        index.apply(record(DirtyKey.eraClosed(VOLUME, node, era).bytes(), Codecs.ERA_CLOSED.encode(new EraClosed(2000L + era, count))));
    }

    private ReplayEngine.Step step() throws InterruptedException {
        List<CopyProgress> progress = new ArrayList<>();
        ReplayEngine.Step s = engine.step(index, PAIR, (d, p) -> progress.add(p));
        if (s != null && s.progress() != null) {
            assertThat(progress).isNotEmpty();
        }
        return s;
    }

    @Test
    void aSlicedCopyReportsOnlyAfterItsLastSliceAndItsProgressCoversEverySlice() throws Exception {
        int[] regions = java.util.stream.IntStream.range(0, 20).toArray();
        logged("site-a", 5, (byte) 0x5a, regions);
        eraClosed("site-a", 5, 20);
        List<CopyProgress> progress = new ArrayList<>();
        ReplayEngine.Step first = engine.step(index, PAIR, (d, p) -> progress.add(p), 8L * REGION);
        assertThat(first.partial()).isTrue();
        assertThat(first.progress().regionsCopied()).isEqualTo(8);
        assertThat(first.progress().bytesTotal()).as("the whole copy, not the slice").isEqualTo(20L * REGION);
        assertThat(reports).as("nothing is reported before the last slice").isEmpty();
        assertThat(engine.slicing(VOLUME)).isTrue();
        ReplayEngine.Step second = engine.step(index, PAIR, (d, p) -> progress.add(p), 8L * REGION);
        assertThat(second.partial()).isTrue();
        assertThat(second.progress().regionsCopied()).isEqualTo(16);
        ReplayEngine.Step last = engine.step(index, PAIR, (d, p) -> progress.add(p), 8L * REGION);
        assertThat(last.partial()).isFalse();
        assertThat(last.progress().regionsCopied()).isEqualTo(20);
        assertThat(last.progress().bytesCopied()).isEqualTo(20L * REGION);
        assertThat(progress).extracting(CopyProgress::bytesCopied).isSorted();
        assertThat(progress.get(progress.size() - 1).bytesCopied()).isEqualTo(20L * REGION);
        assertThat(reports).containsExactly("site-a {5=20}");
        assertThat(copiedReports.get(0)).isEqualTo(Map.of(5L, RoaringBitmap.bitmapOfRange(0, 20)));
        assertThat(engine.slicing(VOLUME)).isFalse();
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
        assertThat(step()).isNull();
    }

    @Test
    void aForgottenSlicedCopyStartsOverFromTheIndex() throws Exception {
        logged("site-a", 5, (byte) 0x5b, 0, 1, 2, 3, 4, 5);
        eraClosed("site-a", 5, 6);
        assertThat(engine.step(index, PAIR, (d, p) -> { }, 2L * REGION).partial()).isTrue();
        engine.forget(VOLUME);   // the volume moved to another instance and back
        assertThat(engine.slicing(VOLUME)).isFalse();
        ReplayEngine.Step again = engine.step(index, PAIR, (d, p) -> { }, 2L * REGION);
        assertThat(again.progress().regionsTotal()).as("the first slice's tombstones are in the index").isEqualTo(4);
        while (engine.step(index, PAIR, (d, p) -> { }, 2L * REGION).partial()) {
            assertThat(reports).isEmpty();
        }
        assertThat(reports).containsExactly("site-a {5=6}");
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
    }

    @Test
    void aFailedSliceDropsTheCopyUnderWay() throws Exception {
        logged("site-a", 5, (byte) 0x5c, 0, 1, 2, 3);
        eraClosed("site-a", 5, 4);
        engine.step(index, PAIR, (d, p) -> { }, REGION);
        assertThatThrownBy(() -> engine.step(index, PAIR, (d, p) -> {
            throw new RetriableException("link down (injected)");
        }, REGION)).isInstanceOf(RetriableException.class);
        assertThat(engine.slicing(VOLUME)).isFalse();
        ReplayEngine.Step whole = engine.step(index, PAIR, (d, p) -> { }, Long.MAX_VALUE);
        assertThat(whole.partial()).isFalse();
        assertThat(reports).containsExactly("site-a {5=4}");
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
    }

    @Test
    void nothingIsReadyWhileNeitherNodeHasAClosedEra() throws Exception {
        logged("site-a", 5, (byte) 1, 3, 4);
        assertThat(ReplayEngine.direction(index, PAIR)).isEmpty();
        assertThat(step()).isNull();
        assertThat(calls).isEmpty();
        assertThat(reports).isEmpty();
    }

    @Test
    void theSourceIsWhicheverNodeHasReadyClosedErasInBothDirections() throws Exception {
        // Forward: site-a logged while the link was down and resyncs site-b.
        logged("site-a", 5, (byte) 0x11, 3, 4, 5, 40);
        eraClosed("site-a", 5, 4);
        logged("site-a", 6, (byte) 0x12, 41);   // the open era: not copied yet
        ReplayEngine.Step forward = step();
        assertThat(forward.direction()).isEqualTo(new ReplayEngine.Direction(VOLUME, "site-a", "site-b", 5));
        assertThat(calls).containsExactly("read site-a", "write site-b");
        assertThat(reports).containsExactly("site-a {5=4}");
        assertThat(copiedReports.get(0)).as("the report names the regions it copied, for the facility to check against its bitmap")
                .isEqualTo(Map.of(5L, RoaringBitmap.bitmapOf(3, 4, 5, 40)));
        assertThat(tombstoned).allMatch(t -> t.startsWith("site-a/5/"));
        assertThat(forward.progress().regionsCopied()).isEqualTo(4);
        assertThat(Arrays.copyOfRange(disks.get("site-b"), 3 * REGION, 6 * REGION))
                .isEqualTo(Arrays.copyOfRange(disks.get("site-a"), 3 * REGION, 6 * REGION));
        assertThat(index.liveRegionsThrough(VOLUME, "site-a", 5).isEmpty()).isTrue();
        assertThat(step()).as("era 5 is replayed and reported; era 6 is still open").isNull();
        // Era 6 closes (cutover) and is copied too; then the volume is REPLICATING and both disks match.
        eraClosed("site-a", 6, 1);
        assertThat(step().direction().era()).isEqualTo(6);
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));

        // Reverse: site-b was promoted during a later outage, logged its own writes and now resyncs site-a.
        calls.clear();
        tombstoned.clear();
        logged("site-b", 9, (byte) 0x21, 0, 1, 63);
        logged("site-b", 10, (byte) 0x22, 1, 2);
        eraClosed("site-b", 9, 3);
        eraClosed("site-b", 10, 2);
        assertThat(disks.get("site-a")).isNotEqualTo(disks.get("site-b"));
        ReplayEngine.Step reverse = step();
        assertThat(reverse.direction()).isEqualTo(new ReplayEngine.Direction(VOLUME, "site-b", "site-a", 10));
        assertThat(calls).containsExactly("read site-b", "write site-a");
        assertThat(reports).as("exactly the eras copied, with their markers' counts")
                .containsExactly("site-a {5=4}", "site-a {6=1}", "site-b {9=3, 10=2}");
        assertThat(tombstoned).as("tombstones stay keyed by the source node").allMatch(t -> t.startsWith("site-b/"));
        assertThat(reverse.progress().regionsCopied()).as("the union of eras 9 and 10").isEqualTo(4);
        assertThat(disks.get("site-a")).isEqualTo(disks.get("site-b"));
        assertThat(index.liveCount(VOLUME)).isZero();
    }

    @Test
    void regionsWhoseTombstonesTheIndexHasNotReadYetAreNotCopiedAgain() throws Exception {
        indexLags = true;
        logged("site-a", 5, (byte) 0x66, 1, 2, 3);
        eraClosed("site-a", 5, 3);
        assertThat(step().progress().regionsCopied()).isEqualTo(3);
        assertThat(index.liveCount(VOLUME)).as("the tombstones are acknowledged but not read back yet").isEqualTo(3);
        assertThat(step()).as("era 5 was copied and reported; nothing to do while the index lags").isNull();
        // The cutover era closes before the index caught up: only its own region is copied.
        logged("site-a", 6, (byte) 0x67, 9);
        eraClosed("site-a", 6, 1);
        assertThat(step().progress().regionsCopied()).isEqualTo(1);
        unread.forEach(index::apply);
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
    }

    @Test
    void aStaleMarkerOfTheOtherNodeDoesNotTurnTheDirection() throws Exception {
        // Left behind: its regions were tombstoned and site-a dropped the era, but the marker's tombstone was lost.
        marker("site-a", 5, 0);
        facilityOpenEra.put("site-a", 6L);
        logged("site-b", 9, (byte) 0x33, 7, 8);
        eraClosed("site-b", 9, 2);
        assertThat(ReplayEngine.direction(index, PAIR)).contains(new ReplayEngine.Direction(VOLUME, "site-b", "site-a", 9));
        step();
        assertThat(disks.get("site-a")).isEqualTo(disks.get("site-b"));
        // Then the stale marker is reported to its node, which refuses it (era 5 is not pending there, it was
        // dropped), so the engine tombstones it.
        assertThat(step().direction().source()).isEqualTo("site-a");
        assertThat(reports).containsExactly("site-b {9=2}", "site-a {5=0}");
        assertThat(index.closedEras(VOLUME, "site-a")).isEmpty();
        assertThat(step()).isNull();
    }

    @Test
    void bothNodesWithRegionsToCopyIsRefusedAndNothingIsWritten() {
        logged("site-a", 5, (byte) 0x44, 1);
        eraClosed("site-a", 5, 1);
        logged("site-b", 9, (byte) 0x55, 2);
        eraClosed("site-b", 9, 1);
        byte[] a = disks.get("site-a").clone();
        byte[] b = disks.get("site-b").clone();
        assertThatThrownBy(this::step).isInstanceOf(RetriableException.class).hasMessageContaining("both [site-a, site-b]");
        assertThat(disks.get("site-a")).isEqualTo(a);
        assertThat(disks.get("site-b")).isEqualTo(b);
        assertThat(reports).isEmpty();
    }

    @Test
    void aReportTheFacilityRefusesFailsTheStepKeepsTheMarkerAndIsSentAgainNextRound() throws Exception {
        logged("site-a", 5, (byte) 0x71, 1, 2, 3);
        marker("site-a", 5, 3);
        facilityPending("site-a").put(5L, 4L);   // the facility's bitmap of era 5 holds one region more than the marker says
        facilityOpenEra.put("site-a", 6L);
        assertThatThrownBy(this::step).isInstanceOf(RetriableException.class)
                .hasMessageContaining("site-a refused the replay report {5=3}")
                .hasMessageContaining("era 5 holds 4");
        assertThat(facilityPending("site-a")).containsKey(5L);
        assertThat(index.closedEras(VOLUME, "site-a")).as("the marker stays until a report is taken").hasSize(1);
        assertThat(index.liveCount(VOLUME)).as("the copied regions are tombstoned all the same").isZero();

        assertThatThrownBy(this::step).as("reported again on the next round").isInstanceOf(RetriableException.class);
        assertThat(reports).containsExactly("site-a {5=3}", "site-a {5=3}");
        // The facility re-announces the era (a resync start does) with the count its bitmap holds.
        logged("site-a", 5, (byte) 0x72, 4);
        marker("site-a", 5, 4);
        assertThat(step().direction().era()).isEqualTo(5);
        assertThat(facilityPending("site-a")).isEmpty();
        assertThat(index.closedEras(VOLUME, "site-a")).isEmpty();
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
    }

    @Test
    void erasTheFacilityDroppedAlreadyCountAsDoneAndTheRestIsReportedAgainAtOnce() throws Exception {
        // A replayer reported era 5 and died before it tombstoned the marker; era 6 closed since.
        marker("site-a", 5, 2);
        logged("site-a", 6, (byte) 0x73, 7);
        eraClosed("site-a", 6, 1);
        ReplayEngine.Step s = step();
        assertThat(s.direction().era()).isEqualTo(6);
        assertThat(reports).containsExactly("site-a {5=2, 6=1}", "site-a {6=1}");
        assertThat(facilityPending("site-a")).isEmpty();
        assertThat(index.closedEras(VOLUME, "site-a")).as("both markers tombstoned").isEmpty();
        assertThat(disks.get("site-b")).isEqualTo(disks.get("site-a"));
    }
}
