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
 * <p>Thread-safety: {@link #step} may run for different volumes on different threads; one volume is
 * stepped by one thread at a time.
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

    /** What a step did. {@code progress} is null when nothing was left to copy and the step only reported. */
    public record Step(Direction direction, CopyProgress progress) {
        public String volume() {
            return direction.volume();
        }

        public long era() {
            return direction.era();
        }
    }

    private final VolumeCopier copier;
    private final ReplayedRegions replayed;
    private final Nodes nodes;
    /** Highest era reported per "volume/source node", so a drained era is not reported over and over. */
    private final Map<String, Long> reported = new ConcurrentHashMap<>();

    public ReplayEngine(VolumeCopier copier, ReplayedRegions replayed, Nodes nodes) {
        this.copier = copier;
        this.replayed = replayed;
        this.nodes = nodes;
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
        Optional<Direction> found = direction(index, v);
        if (found.isEmpty()) {
            return null;
        }
        Direction d = found.get();
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
        long started = System.nanoTime();
        VolumeCopier.Result copied = null;
        if (!live.isEmpty()) {
            RegionGeometry geometry = index.geometry(d.volume())
                    .orElseThrow(() -> new FatalException("volume '" + d.volume() + "': no region size known from the dirty records"));
            LOG.info("volume {}: copying {}'s eras <= {} from {} to {}", d.volume(), d.source(), d.era(), d.source(), d.target());
            VolumeCopier.Pass pass = new VolumeCopier.Pass(d.volume(), d.source(), geometry, nodes.source(d.volume(), d.source()),
                    nodes.target(d.volume(), d.target()));
            copied = copier.copy(pass, live, p -> progress.accept(d, p));
        }
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
        if (copied != null) {
            copier.awaitTombstones(copied, d.volume());
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
        return new Step(d, copied == null ? null : copied.progress());
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
