package io.blockrep.replayer.service;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.ReplayerConfig.VolumeTarget;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.copy.ReplayedRegions;
import io.blockrep.replayer.copy.VolumeCopier;
import io.blockrep.replayer.index.DirtySetIndex;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replay step for a volume, shared by the continuous service and the one-shot ops job: find the
 * highest era N whose marker (and every earlier era's) is in the index, copy every live region of
 * eras ≤ N, tombstone their keys, tombstone the eras' markers, and tell the primary facility that
 * eras ≤ N are replayed (it then closes the next era, cuts over, or finishes).
 *
 * <p>Idempotent: after a crash anywhere in between, the next step finds the regions still live (or
 * none) and the marker still present, copies what is left, and reports again.
 *
 * <p>Thread-safety: {@link #step} may run for different volumes on different threads; one volume is
 * stepped by one thread at a time.
 */
public final class ReplayEngine {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayEngine.class);

    /** What a step did. */
    public record Step(String volume, long era, CopyProgress progress) {
    }

    private final VolumeCopier copier;
    private final ReplayedRegions replayed;
    private final Map<String, Long> reported = new ConcurrentHashMap<>();

    public ReplayEngine(VolumeCopier copier, ReplayedRegions replayed) {
        this.copier = copier;
        this.replayed = replayed;
    }

    /**
     * Replays what is ready for {@code v}; returns the step, or null when no closed era is ready or it
     * was already replayed and reported.
     */
    public Step step(DirtySetIndex index, VolumeTarget v, FacilityClient primary, Consumer<CopyProgress> progress)
            throws InterruptedException {
        OptionalLong ready = index.highestClosedEraReady(v.volume(), v.node());
        if (ready.isEmpty()) {
            return null;
        }
        long era = ready.getAsLong();
        Map<Long, RoaringBitmap> live = new TreeMap<>();
        for (long e : index.eras(v.volume(), v.node())) {
            if (e <= era) {
                RoaringBitmap regions = index.liveRegions(v.volume(), v.node(), e);
                if (!regions.isEmpty()) {
                    live.put(e, regions);
                }
            }
        }
        Long last = reported.get(v.volume());
        if (live.isEmpty() && last != null && last >= era) {
            return null;
        }
        long started = System.nanoTime();
        VolumeCopier.Result copied = null;
        if (!live.isEmpty()) {
            RegionGeometry geometry = index.geometry(v.volume())
                    .orElseThrow(() -> new FatalException("volume '" + v.volume() + "': no region size known from the dirty records"));
            try (FileChannel source = FileChannel.open(v.source(), StandardOpenOption.READ)) {
                copied = copier.copy(v.volume(), v.node(), geometry, source, live, progress);
            } catch (IOException e) {
                throw new FatalException("volume '" + v.volume() + "': cannot read the source " + v.source() + ": " + e.getMessage(), e);
            }
        }
        // The replica holds every region now: report first (a cutover holds writes until this call),
        // then wait for the region tombstones, and tombstone the markers only after them. A crash in
        // between leaves live keys and the marker, so the next step copies again and reports again.
        long copiedAt = System.nanoTime();
        primary.erasReplayed(v.volume(), era);
        reported.put(v.volume(), era);
        LOG.debug("volume {}: era {} copied in {} ms, reported in {} ms", v.volume(), era,
                (copiedAt - started) / 1_000_000, (System.nanoTime() - copiedAt) / 1_000_000);
        if (copied != null) {
            copier.awaitTombstones(copied, v.volume());
        }
        CopyProgress done = copied == null ? null : copied.progress();
        CompletableFuture<?>[] markers = index.closedEras(v.volume(), v.node()).stream()
                .filter(c -> c.era() <= era)
                .map(c -> replayed.tombstoneMarker(v.volume(), v.node(), c.era()))
                .toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(markers).exceptionally(e -> {
            LOG.warn("volume {}: tombstoning era markers <= {} failed ({}); the next step reports them again", v.volume(), era, e.toString());
            return null;
        });
        LOG.info("volume {}: eras <= {} of {} replayed", v.volume(), era, v.node());
        return new Step(v.volume(), era, done);
    }
}
