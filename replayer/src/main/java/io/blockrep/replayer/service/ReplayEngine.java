package io.blockrep.replayer.service;

import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.copy.ReplayedRegions;
import io.blockrep.replayer.copy.ReplicaTarget;
import io.blockrep.replayer.copy.SourceReader;
import io.blockrep.replayer.copy.VolumeCopier;
import io.blockrep.replayer.index.DirtySetIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replay step for a volume, shared by the continuous service and the one-shot ops job. The
 * direction comes from the dirty records, never from configuration: of the volume's two nodes, the
 * <em>source</em> is the one whose era-closed markers are ready in the index (a facility closes eras
 * only while it resyncs its peer from itself), the <em>target</em> is the other. Then: find the
 * highest era N whose marker (and every earlier era's) is in, copy every live region of the source's
 * eras ≤ N from the source to the target, tombstone their keys (keyed by the source node), report to
 * the source facility exactly the eras copied, each with its marker's region count (it checks them
 * against its own bitmaps, drops them, then closes the next era, cuts over, or finishes), and
 * tombstone the eras' markers. The same code runs site-a→site-b and site-b→site-a.
 *
 * <p>Idempotent: after a crash anywhere in between, the next step finds the regions still live (or
 * none) and the marker still present, copies what is left, and reports again. The facility refuses
 * a report naming an era it no longer holds; the engine then asks for its eras, counts the eras it
 * dropped already (eras only go up, so an era below its open one and not pending was dropped) as
 * done, tombstones their markers and reports the rest once more. Anything still refused (a count
 * that differs from the facility's bitmap, an era not closed there) fails the step with the
 * facility's message and is reported again on the next round: nothing is dropped meanwhile, and the
 * index is not rebuilt, since it already mirrors the topic and would read the same markers.
 *
 * <p>Slices: {@link #step(DirtySetIndex, VolumeNodes, BiConsumer, long)} with a slice size copies at
 * most that many bytes of the volume's regions per call and returns a {@link Step#partial() partial}
 * step; the regions still to copy are kept here (a snapshot of the eras' live regions, taken by the
 * first slice) and the next call copies the next slice. The report and the marker tombstones follow
 * the last slice, exactly as for an unsliced step. A slice rechecks the direction first: when the
 * index names another source or target than the snapshot's (a failover meanwhile) or nothing is
 * ready, the snapshot is dropped and the step starts over from the index, as it does after any
 * failure and after {@link #forget} (the volume moved to another instance). Regions copied by an
 * abandoned snapshot and not tombstoned yet are copied again: harmless, as for any crash.
 *
 * <p>Thread-safety: {@link #step} may run for different volumes on different threads (each call
 * takes a {@link VolumeCopier} of its own from the engine's pool, waiting when all are in use); one
 * volume is stepped by one thread at a time. The snapshots and the reported eras are in concurrent maps.
 */
public final class ReplayEngine {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayEngine.class);

    /** How the engine reaches the nodes of a volume; implemented over the link and control APIs by {@link ReplayerRuntime}. */
    public interface Nodes {
        /** Reads {@code node}'s copy of a volume (the source of a step). */
        SourceReader source(String volume, String node);

        /** Writes {@code node}'s copy of a volume (the target of a step). */
        ReplicaTarget target(String volume, String node);

        /**
         * Tells {@code node}'s facility that every region of the named eras of {@code volume} was copied,
         * each with its era-closed marker's region count; the facility drops exactly those eras, or none.
         *
         * @throws FacilityClient.ReplayReportRefusedException when the facility refused the report
         */
        void erasReplayed(String volume, String node, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied);

        /** {@code node}'s facility's open and pending eras of {@code volume} (asked after a refused report). */
        FacilityClient.FacilityEras eras(String volume, String node);
    }

    /** Which way a volume copies now: from {@code source}'s closed eras up to {@code era}, to {@code target}. */
    public record Direction(String volume, String source, String target, long era) {
    }

    /**
     * What a step did. {@code progress} is null when nothing was left to copy and the step only reported;
     * over a sliced copy it counts every slice so far. {@code partial}: a slice was copied and more are
     * left (nothing reported yet).
     */
    public record Step(Direction direction, CopyProgress progress, boolean partial) {
        public Step(Direction direction, CopyProgress progress) {
            this(direction, progress, false);
        }

        public String volume() {
            return direction.volume();
        }

        public long era() {
            return direction.era();
        }
    }

    /** A sliced copy under way: what the first slice found to copy, what is left, and the slices' results. */
    private static final class Sliced {
        final Direction direction;
        final Map<Long, RoaringBitmap> live;
        final RegionGeometry geometry;
        final RoaringBitmap left;
        final long bytesTotal;
        final long regionsTotal;
        final long started = System.nanoTime();
        final List<VolumeCopier.Result> results = new ArrayList<>();
        long bytesCopied;
        long regionsCopied;
        long skipped;

        Sliced(Direction direction, Map<Long, RoaringBitmap> live, RegionGeometry geometry) {
            this.direction = direction;
            this.live = live;
            this.geometry = geometry;
            this.left = RoaringBitmap.or(live.values().iterator());
            this.regionsTotal = left.getLongCardinality();
            this.bytesTotal = bytesOf(geometry, left);
        }

        CopyProgress progress(CopyProgress slice) {
            return new CopyProgress(direction.volume(), direction.era(), bytesTotal, bytesCopied + slice.bytesCopied(), regionsTotal,
                    regionsCopied + slice.regionsCopied(), skipped + slice.regionsSkipped(), System.nanoTime() - started);
        }

        void add(VolumeCopier.Result r) {
            results.add(r);
            bytesCopied += r.progress().bytesCopied();
            regionsCopied += r.progress().regionsCopied();
            skipped += r.progress().regionsSkipped();
        }

        CopyProgress total() {
            return new CopyProgress(direction.volume(), direction.era(), bytesTotal, bytesCopied, regionsTotal, regionsCopied, skipped,
                    System.nanoTime() - started);
        }

        /** The first regions still to copy, {@code sliceBytes} of them at most (one at least), taken out of {@link #left}. */
        RoaringBitmap nextSlice(long sliceBytes) {
            long regions = Math.max(1, sliceBytes / geometry.regionSize());
            RoaringBitmap slice = regions >= left.getLongCardinality() ? left.clone() : left.limit((int) regions);
            left.andNot(slice);
            return slice;
        }
    }

    private final java.util.concurrent.BlockingQueue<VolumeCopier> copiers;
    private final ReplayedRegions replayed;
    private final Nodes nodes;
    /** Highest era reported per "volume/source node", so a drained era is not reported over and over. */
    private final Map<String, Long> reported = new ConcurrentHashMap<>();
    /** Sliced copies under way, by volume. */
    private final Map<String, Sliced> sliced = new ConcurrentHashMap<>();

    public ReplayEngine(VolumeCopier copier, ReplayedRegions replayed, Nodes nodes) {
        this(List.of(copier), replayed, nodes);
    }

    /** An engine that copies up to {@code copiers.size()} volumes at once, each call with a copier of its own. */
    public ReplayEngine(List<VolumeCopier> copiers, ReplayedRegions replayed, Nodes nodes) {
        if (copiers.isEmpty()) {
            throw new IllegalArgumentException("an engine needs a copier");
        }
        this.copiers = new java.util.concurrent.ArrayBlockingQueue<>(copiers.size(), false, copiers);
        this.replayed = replayed;
        this.nodes = nodes;
    }

    /** Drops {@code volume}'s sliced copy under way, if any (the volume moved to another instance). */
    public void forget(String volume) {
        sliced.remove(volume);
    }

    /** Whether a sliced copy of {@code volume} is under way (its next slice is due). */
    public boolean slicing(String volume) {
        return sliced.containsKey(volume);
    }

    static long bytesOf(RegionGeometry geometry, RoaringBitmap regions) {
        long count = regions.getLongCardinality();
        if (count == 0) {
            return 0;
        }
        long last = regions.last() & 0xFFFFFFFFL;
        return (count - 1) * geometry.regionSize() + geometry.regionLength(last);
    }

    /**
     * The direction the records give for {@code v}: the node with ready closed eras is the source.
     * When both have some (a marker left behind by an earlier direction whose tombstone was lost, say)
     * the one with live regions to copy is the source; if neither has any, the first node (the step
     * only reports and tombstones markers); if both have live regions the step refuses: both sides
     * took writes the other lacks, which only an operator may settle.
     */
    public static Optional<Direction> direction(DirtySetIndex index, VolumeNodes v) {
        List<Direction> ready = new ArrayList<>();
        for (String node : v.nodes()) {
            OptionalLong era = index.highestClosedEraReady(v.volume(), node);
            if (era.isPresent()) {
                ready.add(new Direction(v.volume(), node, v.other(node), era.getAsLong()));
            }
        }
        if (ready.size() < 2) {
            return ready.stream().findFirst();
        }
        List<Direction> withLive = ready.stream().filter(d -> !index.liveRegionsThrough(d.volume(), d.source(), d.era()).isEmpty())
                .toList();
        if (withLive.size() == 2) {
            throw new RetriableException("volume '" + v.volume() + "': both " + v.nodes() + " have closed eras with regions to copy; "
                    + "the replayer copies in one direction only (a split brain is settled with blockrep resolve)");
        }
        return Optional.of(withLive.isEmpty() ? ready.get(0) : withLive.get(0));
    }

    /**
     * Replays what is ready for {@code v}; returns the step, or null when no closed era is ready or
     * it was already replayed and reported.
     */
    public Step step(DirtySetIndex index, VolumeNodes v, BiConsumer<Direction, CopyProgress> progress) throws InterruptedException {
        return step(index, v, progress, Long.MAX_VALUE);
    }

    /**
     * As {@link #step(DirtySetIndex, VolumeNodes, BiConsumer)}, copying at most {@code sliceBytes} per
     * call: a {@link Step#partial() partial} step means more slices are left (see the class comment).
     */
    public Step step(DirtySetIndex index, VolumeNodes v, BiConsumer<Direction, CopyProgress> progress, long sliceBytes)
            throws InterruptedException {
        boolean done = false;
        VolumeCopier copier = copiers.take();
        try {
            Step s = slicedStep(copier, index, v, progress, sliceBytes);
            done = true;
            return s;
        } finally {
            copiers.add(copier);
            if (!done) {
                sliced.remove(v.volume());   // any failure: the next step starts over from the index
            }
        }
    }

    private Step slicedStep(VolumeCopier copier, DirtySetIndex index, VolumeNodes v, BiConsumer<Direction, CopyProgress> progress,
                            long sliceBytes) throws InterruptedException {
        Optional<Direction> found = direction(index, v);
        Sliced under = sliced.get(v.volume());
        if (under != null && (found.isEmpty() || !found.get().source().equals(under.direction.source())
                || !found.get().target().equals(under.direction.target()) || found.get().era() < under.direction.era())) {
            LOG.info("volume {}: the index now gives {} instead of {}; the copy under way starts over", v.volume(),
                    found.map(Object::toString).orElse("nothing ready"), under.direction);
            sliced.remove(v.volume());
            under = null;
        }
        if (found.isEmpty()) {
            return null;
        }
        if (under == null) {
            under = begin(index, found.get());
            if (under == null) {
                return null;
            }
        }
        Direction d = under.direction;
        if (!under.left.isEmpty()) {
            if (under.results.isEmpty()) {
                LOG.info("volume {}: copying {}'s eras <= {} from {} to {}", d.volume(), d.source(), d.era(), d.source(), d.target());
            }
            RoaringBitmap slice = under.nextSlice(sliceBytes);
            Map<Long, RoaringBitmap> sliceLive = new TreeMap<>();
            for (Map.Entry<Long, RoaringBitmap> e : under.live.entrySet()) {
                RoaringBitmap r = RoaringBitmap.and(e.getValue(), slice);
                if (!r.isEmpty()) {
                    sliceLive.put(e.getKey(), r);
                }
            }
            VolumeCopier.Pass pass = new VolumeCopier.Pass(d.volume(), d.source(), under.geometry, nodes.source(d.volume(), d.source()),
                    nodes.target(d.volume(), d.target()));
            Sliced s = under;
            under.add(copier.copy(pass, sliceLive, p -> progress.accept(d, s.progress(p))));
            if (!under.left.isEmpty()) {
                return new Step(d, under.total(), true);
            }
        }
        sliced.remove(v.volume());
        return finish(copier, index, under);
    }

    /**
     * What {@code d} leaves to copy: a new sliced copy, one with nothing to copy (the step only
     * reports), or null when its eras were replayed and reported already.
     */
    private Sliced begin(DirtySetIndex index, Direction d) {
        Map<Long, RoaringBitmap> live = new TreeMap<>();
        for (long e : index.eras(d.volume(), d.source())) {
            if (e <= d.era()) {
                RoaringBitmap regions = index.liveRegions(d.volume(), d.source(), e);
                if (!regions.isEmpty()) {
                    live.put(e, regions);
                }
            }
        }
        String key = d.volume() + "/" + d.source();
        Long last = reported.get(key);
        if (last != null) {
            // Eras up to the last one reported were copied and their tombstones acknowledged: regions the index
            // still shows live in them are tombstones it has not read yet (closed eras take no new regions).
            live.keySet().removeIf(e -> e <= last);
        }
        if (live.isEmpty() && last != null && last >= d.era()) {
            return null;
        }
        RegionGeometry geometry = live.isEmpty() ? null : index.geometry(d.volume())
                .orElseThrow(() -> new FatalException("volume '" + d.volume() + "': no region size known from the dirty records"));
        Sliced s = new Sliced(d, live, geometry);
        sliced.put(d.volume(), s);
        return s;
    }

    /** After the last slice: report the eras, await the region tombstones, tombstone the markers. */
    private Step finish(VolumeCopier copier, DirtySetIndex index, Sliced done) throws InterruptedException {
        Direction d = done.direction;
        Map<Long, RoaringBitmap> live = done.live;
        String key = d.volume() + "/" + d.source();
        Long last = reported.get(key);
        long started = done.started;
        // The replica holds every region now: report first (a cutover holds writes until this call),
        // then wait for the region tombstones, and tombstone the markers only after them. A crash in
        // between leaves live keys and the marker, so the next step copies again and reports again.
        SortedMap<Long, Long> report = new TreeMap<>();
        for (DirtySetIndex.ClosedEra c : index.closedEras(d.volume(), d.source())) {
            if (c.era() <= d.era() && (last == null || c.era() > last)) {
                report.put(c.era(), c.regionCount());
            }
        }
        long copiedAt = System.nanoTime();
        Outcome outcome = report(d, report, live);
        LOG.debug("volume {}: eras {} copied in {} ms, reported in {} ms", d.volume(), report,
                (copiedAt - started) / 1_000_000, (System.nanoTime() - copiedAt) / 1_000_000);
        for (VolumeCopier.Result r : done.results) {
            copier.awaitTombstones(r, d.volume());
        }
        // The markers of the eras the facility no longer holds, including any left by an earlier step whose marker tombstones failed.
        CompletableFuture<?>[] markers = index.closedEras(d.volume(), d.source()).stream()
                .filter(c -> c.era() <= d.era() && !outcome.refused().containsKey(c.era()))
                .map(c -> replayed.tombstoneMarker(d.volume(), d.source(), c.era()))
                .toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(markers).exceptionally(e -> {
            LOG.warn("volume {}: tombstoning {}'s era markers <= {} failed ({}); the next step tombstones them again", d.volume(),
                    d.source(), d.era(), e.toString());
            return null;
        });
        if (outcome.message() != null) {
            // Nothing of the refused eras was dropped there; the facility logged why too. The index is a faithful
            // copy of the topic, so rebuilding it would read the same markers: report again on the next round.
            throw new RetriableException("volume '" + d.volume() + "': " + d.source() + " refused the replay report "
                    + outcome.refused() + " (" + outcome.message() + "); the next round reports again");
        }
        // Only now: a step whose tombstones failed leaves the era unrecorded, so the next one copies it again.
        reported.put(key, d.era());
        LOG.info("volume {}: eras {} of {} replayed to {}", d.volume(), report.keySet(), d.source(), d.target());
        return new Step(d, done.results.isEmpty() ? null : done.total());
    }

    /** What a report left refused at the facility (empty when it took everything), with the facility's {@code message}. */
    private record Outcome(SortedMap<Long, Long> refused, String message) {
        static final Outcome TAKEN = new Outcome(new TreeMap<>(), null);
    }

    /**
     * Reports {@code report} to the source. A refusal is checked against the facility's eras: eras it
     * dropped already (a report applied before, by a replayer that died before it tombstoned the
     * markers, or a stale marker) count as done, and the rest is reported once more; whatever is
     * still refused is returned.
     */
    private Outcome report(Direction d, SortedMap<Long, Long> report, Map<Long, RoaringBitmap> copied) {
        try {
            nodes.erasReplayed(d.volume(), d.source(), report, copied);
            return Outcome.TAKEN;
        } catch (FacilityClient.ReplayReportRefusedException refused) {
            FacilityClient.FacilityEras there = nodes.eras(d.volume(), d.source());
            SortedMap<Long, Long> rest = new TreeMap<>(report);
            rest.keySet().removeIf(there::dropped);
            if (rest.size() < report.size()) {
                LOG.info("volume {}: {} had dropped eras {} already (an earlier report was applied); their markers are tombstoned",
                        d.volume(), d.source(), report.keySet().stream().filter(there::dropped).toList());
            }
            if (rest.isEmpty()) {
                return Outcome.TAKEN;
            }
            if (rest.size() == report.size()) {
                return new Outcome(rest, refused.getMessage());
            }
            try {
                nodes.erasReplayed(d.volume(), d.source(), rest, copied);
                return Outcome.TAKEN;
            } catch (FacilityClient.ReplayReportRefusedException again) {
                return new Outcome(rest, again.getMessage());
            }
        }
    }
}
