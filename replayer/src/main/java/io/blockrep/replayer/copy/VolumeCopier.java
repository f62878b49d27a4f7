package io.blockrep.replayer.copy;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.plan.Extent;
import io.blockrep.replayer.plan.ExtentPlanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the live dirty regions of a volume's closed eras from the source to the secondary.
 *
 * <p>Order of one data set: read the extents from the source <em>now</em> (newer data than the era
 * is harmless: those regions are dirty in a later era and will be copied again), optionally drop
 * regions whose hash already matches on the secondary, send the set, wait for the secondary's
 * durable apply, then tombstone the set's keys in every era they are live in. A region is
 * tombstoned only after the replica holds data at least as new as the source's last write to it
 * in those eras — the invariant that makes the copy race-free. Replaying twice is safe.
 *
 * <p>One caller at a time per instance (the owner thread of the volume's replay).
 */
public final class VolumeCopier {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeCopier.class);
    private static final SecureRandom SET_IDS = new SecureRandom();
    /** Data sets sent and not yet acknowledged, at most. */
    static final int IN_FLIGHT_SETS = 2;

    private record InFlight(long setId, CompletableFuture<Void> sent, RoaringBitmap regions, long bytes) {
    }

    /** Knobs of a copy pass. */
    public record Settings(long maxExtentBytes, long dataSetBytes, boolean skipIdentical, long ackTimeoutMillis) {
    }

    private final Settings settings;
    private final ReplicaTarget target;
    private final ReplayedRegions replayed;
    private final RateLimiter rate;

    public VolumeCopier(Settings settings, ReplicaTarget target, ReplayedRegions replayed, RateLimiter rate) {
        this.settings = settings;
        this.target = target;
        this.replayed = replayed;
        this.rate = rate;
    }

    /** A finished copy: its figures, and the tombstones of its regions, which may still be in flight. */
    public record Result(CopyProgress progress, CompletableFuture<Void> tombstones) {
    }

    /**
     * Copies the union of {@code liveByEra} (era → live regions) and tombstones each region in the
     * eras it is live in. Returns when every set is applied; the tombstones are sent by then, and
     * {@link Result#tombstones()} completes when Kafka acknowledged them all.
     */
    public Result copy(String volume, String node, RegionGeometry geometry, FileChannel source,
                             Map<Long, RoaringBitmap> liveByEra, Consumer<CopyProgress> progress) throws InterruptedException {
        long started = System.nanoTime();
        target.attach(volume, geometry);
        long throughEra = liveByEra.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        RoaringBitmap all = RoaringBitmap.or(liveByEra.values().iterator());
        List<Extent> extents = new ExtentPlanner(geometry, settings.maxExtentBytes()).plan(all);
        long bytesTotal = extents.stream().mapToLong(Extent::length).sum();
        long regionsTotal = all.getLongCardinality();
        long bytesCopied = 0;
        long regionsCopied = 0;
        long skipped = 0;
        List<CompletableFuture<Void>> tombstones = new ArrayList<>();
        // Up to IN_FLIGHT_SETS data sets are in flight at once: while the secondary journals and
        // applies one, the next is read and sent. A set's regions are tombstoned once it is acknowledged.
        java.util.ArrayDeque<InFlight> inFlight = new java.util.ArrayDeque<>();
        int i = 0;
        while (i < extents.size()) {
            List<Extent> batch = new ArrayList<>();
            long bytes = 0;
            while (i < extents.size() && (batch.isEmpty() || bytes + extents.get(i).length() <= settings.dataSetBytes())) {
                bytes += extents.get(i).length();
                batch.add(extents.get(i++));
            }
            RoaringBitmap batchRegions = regionsOf(batch);
            // Wait for the rate before talking to the secondary, so no connection sits idle mid-batch.
            rate.acquire(bytes);
            List<Extent> toSend = batch;
            if (settings.skipIdentical()) {
                RoaringBitmap same = identicalRegions(volume, geometry, source, batch);
                if (!same.isEmpty()) {
                    skipped += same.getLongCardinality();
                    toSend = new ExtentPlanner(geometry, settings.maxExtentBytes()).plan(RoaringBitmap.andNot(batchRegions, same));
                }
            }
            long setId = SET_IDS.nextLong() & Long.MAX_VALUE;
            CompletableFuture<Void> sent = toSend.isEmpty() ? CompletableFuture.completedFuture(null)
                    : target.sendDataSet(volume, setId, read(source, toSend)).toCompletableFuture();
            inFlight.add(new InFlight(setId, sent, batchRegions, bytes));
            while (inFlight.size() >= IN_FLIGHT_SETS || (i >= extents.size() && !inFlight.isEmpty())) {
                InFlight done = inFlight.poll();
                await(done.sent(), "data set " + done.setId() + " of " + volume);
                for (Map.Entry<Long, RoaringBitmap> era : liveByEra.entrySet()) {
                    RoaringBitmap regions = RoaringBitmap.and(era.getValue(), done.regions());
                    if (!regions.isEmpty()) {
                        tombstones.add(replayed.tombstone(volume, node, era.getKey(), regions));
                    }
                }
                bytesCopied += done.bytes();
                regionsCopied += done.regions().getLongCardinality();
                progress.accept(new CopyProgress(volume, throughEra, bytesTotal, bytesCopied, regionsTotal, regionsCopied, skipped,
                        System.nanoTime() - started));
            }
        }
        CompletableFuture<Void> allTombstones = CompletableFuture.allOf(tombstones.toArray(CompletableFuture[]::new));
        CopyProgress done = new CopyProgress(volume, throughEra, bytesTotal, bytesCopied, regionsTotal, regionsCopied, skipped,
                System.nanoTime() - started);
        LOG.info("volume {}: copied {} region(s) ({} bytes, {} skipped as identical) of eras <= {} in {} ms", volume,
                regionsCopied - skipped, bytesCopied, skipped, throughEra, done.elapsedNanos() / 1_000_000);
        return new Result(done, allTombstones);
    }

    /** Waits for a copy's tombstones, with the copier's acknowledgement timeout. */
    public void awaitTombstones(Result result, String volume) throws InterruptedException {
        await(result.tombstones(), "tombstones of " + volume);
    }

    private RoaringBitmap regionsOf(List<Extent> extents) {
        RoaringBitmap r = new RoaringBitmap();
        for (Extent e : extents) {
            r.add(e.firstRegion(), e.firstRegion() + e.regionCount());
        }
        return r;
    }

    /** Regions of {@code batch} whose SHA-256 is the same on the source and the secondary (one round trip per batch). */
    private RoaringBitmap identicalRegions(String volume, RegionGeometry geometry, FileChannel source, List<Extent> batch)
            throws InterruptedException {
        RoaringBitmap same = new RoaringBitmap();
        MessageDigest sha = sha256();
        List<long[]> ranges = batch.stream().map(e -> new long[] {e.offset(), e.length()}).toList();
        List<List<byte[]>> remote = await(target.hashes(volume, ranges, geometry.regionSize()).toCompletableFuture(),
                "hashes of " + volume);
        for (int i = 0; i < batch.size(); i++) {
            Extent e = batch.get(i);
            List<byte[]> digests = remote.get(i);
            for (int k = 0; k < e.regionCount(); k++) {
                long region = e.firstRegion() + k;
                ByteBuffer buf = ByteBuffer.allocate(geometry.regionLength(region));
                readFully(source, geometry.regionStart(region), buf);
                sha.reset();
                sha.update(buf.flip());
                if (k < digests.size() && Arrays.equals(sha.digest(), digests.get(k))) {
                    same.add(region, region + 1);
                }
            }
        }
        return same;
    }

    private static List<ReplicaTarget.ExtentData> read(FileChannel source, List<Extent> extents) {
        List<ReplicaTarget.ExtentData> out = new ArrayList<>(extents.size());
        for (Extent e : extents) {
            ByteBuffer buf = ByteBuffer.allocate((int) e.length());
            readFully(source, e.offset(), buf);
            out.add(new ReplicaTarget.ExtentData(e.offset(), buf.flip()));
        }
        return out;
    }

    private static void readFully(FileChannel ch, long offset, ByteBuffer buf) {
        try {
            int start = buf.position();
            if (!FileIo.readFully(ch, buf, offset)) {
                throw new FatalException("source ends at " + (offset + buf.position() - start) + ", before the volume's end");
            }
        } catch (IOException e) {
            throw new FatalException("cannot read the source at " + offset + ": " + e.getMessage(), e);
        }
    }

    private <T> T await(CompletableFuture<T> f, String what) throws InterruptedException {
        try {
            return f.get(settings.ackTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new io.blockrep.common.RetriableException(what + " failed: " + cause, cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.blockrep.common.RetriableException(what + " not acknowledged within " + settings.ackTimeoutMillis() + " ms");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
