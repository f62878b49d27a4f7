package io.blockrep.producer.replication;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.InitialSync;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.ZeroScanner;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.MarkResult;
import io.blockrep.producer.dirty.RegionRuns;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The initial synchronisation of a PRIMARY whose data a peer may lack (see {@link InitialSync}),
 * run by the facility before it builds the volume's {@link ReplicatedVolume}.
 *
 * <p>{@link #beforeStart}: with a dirty tracker (a peer is configured) and the initial sync
 * PENDING, the volume is scanned ({@link ZeroScanner}: holes and zeros are skipped), every region
 * holding data is marked dirty durably (cause {@link DirtyCause#INITIAL_SYNC}), and only then is
 * the phase set to RUNNING. The bitmaps are the outbox: the dirty publisher sends those regions to
 * Kafka, and the volume resyncs them through the replayer like any logged backlog (data sets, rate
 * limit, progress, resumable: after a kill the bits are still set). A crash between marking and
 * RUNNING marks them again, harmlessly. Without a tracker (STANDALONE: no peer, writes are not
 * tracked) a PRIMARY is made PENDING, in a generation of its own, so a peer configured later is
 * synced from it.
 *
 * <p>{@link #completing}: an observer that records the initial sync done (phase NONE) when the
 * volume first reaches REPLICATING, which it does only with no dirty region left, and makes a
 * volume promoted to STANDALONE PENDING.
 *
 * <p>Thread-safety: {@link #beforeStart} runs on the facility's start thread, before the volume
 * serves anything; the observer may be called from any thread (metadata updates are serialised
 * by {@link VolumeHandle}).
 */
public final class InitialSyncSetup {
    private static final Logger LOG = LoggerFactory.getLogger(InitialSyncSetup.class);

    private InitialSyncSetup() {
    }

    /**
     * Prepares the initial sync of {@code handle}'s volume, if it has one to do. Returns how many
     * regions were marked for it (0 when nothing was scanned).
     *
     * @param tracker null when the facility has no peer
     */
    public static long beforeStart(VolumeHandle handle, DirtyTracker tracker, VolumeObserver observer, String node, Clock clock) {
        VolumeMetadata meta = handle.metadata();
        if (meta.role() != Role.PRIMARY) {
            return 0;
        }
        if (tracker == null) {
            untracked(handle, node, clock);
            return 0;
        }
        if (meta.initialSync().phase() != InitialSync.Phase.PENDING) {
            return 0;
        }
        long started = clock.millis();
        RoaringBitmap regions = new RoaringBitmap();
        try {
            new ZeroScanner().scan(meta.geometry(), ZeroScanner.of(handle.volume()), r -> regions.add((int) r));
            mark(meta.id(), meta.geometry(), tracker, regions, observer, started);
        } catch (IOException | ExecutionException e) {
            throw new FatalException("volume '" + meta.id() + "': cannot prepare its initial sync: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("volume '" + meta.id() + "': interrupted while preparing its initial sync", e);
        }
        long toCopy = tracker.dirtyRegionCount();
        handle.update(m -> m.withInitialSync(InitialSync.running(toCopy)));
        LOG.info("volume {}: initial sync: {} of {} region(s) hold data and are marked dirty (holes and zeros skipped; scan took {} ms); "
                + "the replayer copies them to the peer", meta.id(), regions.getLongCardinality(), meta.geometry().regionCount(),
                clock.millis() - started);
        return regions.getLongCardinality();
    }

    /** A PRIMARY whose writes are not tracked (no peer): PENDING, in a generation of its own. Idempotent. */
    private static void untracked(VolumeHandle handle, String node, Clock clock) {
        if (handle.metadata().initialSync().phase() != InitialSync.Phase.NONE) {
            return;
        }
        VolumeMetadata m = handle.update(v -> v.withInitialSync(InitialSync.PENDING)
                .withGenerations(v.generations().shared() ? v.generations().diverge(node, clock.millis()) : v.generations()));
        LOG.info("volume {}: STANDALONE (no peer configured): its writes are not tracked, so the first peer it is attached to "
                + "gets an initial sync of every region that holds data (generation {})", m.id(), m.generations().current().idText());
    }

    /** Marks {@code regions} dirty in the open era, all runs at once (they share the tracker's group commits); returns when durable. */
    private static void mark(String volume, RegionGeometry geometry, DirtyTracker tracker, RoaringBitmap regions,
                             VolumeObserver observer, long now) throws InterruptedException, ExecutionException {
        long regionSize = geometry.regionSize();
        long size = geometry.size();
        List<CompletableFuture<MarkResult>> marks = new ArrayList<>();
        for (long[] run : RegionRuns.of(regions)) {
            long offset = run[0] * regionSize;
            long end = Math.min(size, (run[1] + 1) * regionSize);
            marks.add(tracker.markWrite(offset, end - offset).toCompletableFuture());
        }
        CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new)).get();
        for (CompletableFuture<MarkResult> m : marks) {
            MarkResult result = m.get();
            result.firstTouches().forEach(region -> observer.firstTouch(volume, result.era(), region, now, DirtyCause.INITIAL_SYNC));
        }
    }

    /**
     * {@code delegate}, and: the initial sync recorded done when the volume enters REPLICATING; a
     * volume promoted without a tracker ({@code tracked} false: STANDALONE, its writes are not
     * tracked) made PENDING, durably, before the promotion returns and so before its first write.
     */
    public static VolumeObserver completing(VolumeObserver delegate, VolumeHandle handle, boolean tracked, String node, Clock clock) {
        return new VolumeObserver() {
            @Override
            public void firstTouch(String volume, long era, long region, long timeMillis, DirtyCause cause) {
                delegate.firstTouch(volume, era, region, timeMillis, cause);
            }

            @Override
            public void modeChanged(String volume, Mode from, Mode to, String reason) {
                if (to == Mode.REPLICATING && handle.metadata().initialSync().phase() == InitialSync.Phase.RUNNING) {
                    long regions = handle.metadata().initialSync().regions();
                    handle.update(m -> m.withInitialSync(InitialSync.NONE));
                    LOG.info("volume {}: initial sync complete: {} region(s) copied to the peer", volume, regions);
                }
                delegate.modeChanged(volume, from, to, reason);
            }

            @Override
            public void eraClosed(String volume, long era, long regionCount) {
                delegate.eraClosed(volume, era, regionCount);
            }

            @Override
            public void roleChanged(String volume, Role from, Role to, String reason) {
                if (!tracked && to == Role.PRIMARY) {
                    untracked(handle, node, clock);
                }
                delegate.roleChanged(volume, from, to, reason);
            }

            @Override
            public void syncDecided(String volume, String peer, SyncDecision decision, String detail) {
                delegate.syncDecided(volume, peer, decision, detail);
            }

            @Override
            public void republish(String volume, long era, RoaringBitmap regions) {
                delegate.republish(volume, era, regions);
            }

            @Override
            public void invariantViolated(String volume, String detail) {
                delegate.invariantViolated(volume, detail);
            }
        };
    }
}
