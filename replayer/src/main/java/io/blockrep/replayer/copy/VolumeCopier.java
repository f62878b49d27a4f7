package io.blockrep.replayer.copy;

import io.blockrep.common.FatalException;
import io.blockrep.common.link.BlockHashes;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.plan.Extent;
import io.blockrep.replayer.plan.ExtentPlanner;
import java.nio.ByteBuffer;
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
 * Copies the live dirty regions of a volume's closed eras from a source node to a replica, in
 * either direction: the pass names the source (whose dirty records are copied and tombstoned) and
 * the target; nothing here knows which site is which.
 *
 * <p>Order of one data set: read the extents from the source <em>now</em> (newer data than the era
 * is harmless: those regions are dirty in a later era and will be copied again), optionally drop
 * regions whose hash already matches on the target, send the set, wait for the target's durable
 * apply, then tombstone the set's keys in every era they are live in. A region is tombstoned only
 * after the replica holds data at least as new as the source's last write to it in those eras —
 * the invariant that makes the copy race-free. Replaying twice is safe.
 *
 * <p>Pipelining: the next set's extents are requested from the source as soon as the current set's
 * bytes are in, and up to {@link #IN_FLIGHT_SETS} sets are sent and not yet acknowledged, so reading
 * the source, sending and the target's apply overlap. At most one set is read ahead. A set's bytes
 * live in a reused buffer ({@link SetBuffers}) from the read until the target acknowledged the set.
 *
 * <p>One caller at a time per instance (the owner thread of the volume's replay).
 */
public final class VolumeCopier {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeCopier.class);
    private static final SecureRandom SET_IDS = new SecureRandom();
    /** Data sets sent and not yet acknowledged, at most. */
    static final int IN_FLIGHT_SETS = 2;

    private record InFlight(long setId, CompletableFuture<Void> sent, RoaringBitmap regions, long bytes, ByteBuffer buffer) {
    }

    /** Knobs of a copy pass. */
    public record Settings(long maxExtentBytes, long dataSetBytes, boolean skipIdentical, long ackTimeoutMillis) {
    }

    /**
     * One copy pass: {@code volume} from {@code sourceNode} (read through {@code source}; its dirty
     * keys are tombstoned) to {@code target}.
     */
    public record Pass(String volume, String sourceNode, RegionGeometry geometry, SourceReader source, ReplicaTarget target) {
    }

    private final Settings settings;
    private final ReplayedRegions replayed;
    private final RateLimiter rate;
    private final SetBuffers buffers;

    public VolumeCopier(Settings settings, ReplayedRegions replayed, RateLimiter rate) {
        this.settings = settings;
        this.replayed = replayed;
        this.rate = rate;
        long setBytes = settings.dataSetBytes() + settings.dataSetBytes() / 4096 * SourceReader.FRAMING_PER_EXTENT;
        this.buffers = new SetBuffers(IN_FLIGHT_SETS + 1, (int) Math.min(Integer.MAX_VALUE - 64, setBytes));
    }

    /** Allocates the data set buffers now (a long-running service calls it at start). */
    public void warmUp() {
        buffers.warm();
    }

    /** A finished copy: its figures, and the tombstones of its regions, which may still be in flight. */
    public record Result(CopyProgress progress, CompletableFuture<Void> tombstones) {
    }

    /**
     * Copies the union of {@code liveByEra} (era → live regions) and tombstones each region in the
     * eras it is live in. Returns when every set is applied; the tombstones are sent by then, and
     * {@link Result#tombstones()} completes when Kafka acknowledged them all.
     */
    public Result copy(Pass pass, Map<Long, RoaringBitmap> liveByEra, Consumer<CopyProgress> progress) throws InterruptedException {
        long started = System.nanoTime();
        String volume = pass.volume();
        pass.target().attach(volume, pass.geometry());
        long throughEra = liveByEra.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        RoaringBitmap all = RoaringBitmap.or(liveByEra.values().iterator());
        List<List<Extent>> batches = batches(new ExtentPlanner(pass.geometry(), settings.maxExtentBytes()).plan(all));
        long bytesTotal = batches.stream().flatMap(List::stream).mapToLong(Extent::length).sum();
        long regionsTotal = all.getLongCardinality();
        long bytesCopied = 0;
        long regionsCopied = 0;
        long skipped = 0;
        long zeroSkipped = 0;
        long bytesSent = 0;
        List<CompletableFuture<Void>> tombstones = new ArrayList<>();
        java.util.ArrayDeque<InFlight> inFlight = new java.util.ArrayDeque<>();
        ByteBuffer nextBuffer = batches.isEmpty() ? null : bufferFor(batches.get(0));
        CompletableFuture<List<ByteBuffer>> next = batches.isEmpty() ? null : pass.source().read(volume, batches.get(0), nextBuffer);
        for (int b = 0; b < batches.size(); b++) {
            List<Extent> batch = batches.get(b);
            List<ByteBuffer> data = await(next, "read of " + volume + " from " + pass.sourceNode());
            ByteBuffer buffer = nextBuffer;
            nextBuffer = b + 1 < batches.size() ? bufferFor(batches.get(b + 1)) : null;
            next = b + 1 < batches.size() ? pass.source().read(volume, batches.get(b + 1), nextBuffer) : null;
            RoaringBitmap batchRegions = regionsOf(batch);
            long bytes = batch.stream().mapToLong(Extent::length).sum();
            // Wait for the rate before talking to the target, so no connection sits idle mid-batch.
            rate.acquire(bytes);
            List<ReplicaTarget.ExtentData> toSend = extentData(batch, data);
            RoaringBitmap skip = new RoaringBitmap();
            if (settings.skipIdentical()) {
                RoaringBitmap same = identicalRegions(pass, batch, data);
                skipped += same.getLongCardinality();
                skip.or(same);
            }
            RoaringBitmap zero = RoaringBitmap.andNot(zeroRegions(pass.geometry(), batch, data), skip);
            if (!zero.isEmpty()) {
                RoaringBitmap zeroThere = zeroOnTarget(pass, zero);
                zeroSkipped += zeroThere.getLongCardinality();
                skip.or(zeroThere);
            }
            if (!skip.isEmpty()) {
                toSend = without(pass.geometry(), batch, data, skip);
            }
            for (ReplicaTarget.ExtentData x : toSend) {
                bytesSent += x.data().remaining();
            }
            long setId = SET_IDS.nextLong() & Long.MAX_VALUE;
            CompletableFuture<Void> sent = toSend.isEmpty() ? CompletableFuture.completedFuture(null)
                    : pass.target().sendDataSet(volume, setId, toSend).toCompletableFuture();
            inFlight.add(new InFlight(setId, sent, batchRegions, bytes, buffer));
            while (inFlight.size() >= IN_FLIGHT_SETS || (b == batches.size() - 1 && !inFlight.isEmpty())) {
                InFlight done = inFlight.poll();
                await(done.sent(), "data set " + done.setId() + " of " + volume);
                buffers.give(done.buffer());
                for (Map.Entry<Long, RoaringBitmap> era : liveByEra.entrySet()) {
                    RoaringBitmap regions = RoaringBitmap.and(era.getValue(), done.regions());
                    if (!regions.isEmpty()) {
                        tombstones.add(replayed.tombstone(volume, pass.sourceNode(), era.getKey(), regions));
                    }
                }
                bytesCopied += done.bytes();
                regionsCopied += done.regions().getLongCardinality();
                progress.accept(new CopyProgress(volume, throughEra, bytesTotal, bytesCopied, regionsTotal, regionsCopied, skipped,
                        System.nanoTime() - started, bytesSent, zeroSkipped));
            }
        }
        CompletableFuture<Void> allTombstones = CompletableFuture.allOf(tombstones.toArray(CompletableFuture[]::new));
        CopyProgress done = new CopyProgress(volume, throughEra, bytesTotal, bytesCopied, regionsTotal, regionsCopied, skipped,
                System.nanoTime() - started, bytesSent, zeroSkipped);
        LOG.info("volume {}: copied {} region(s) of {}'s eras <= {} in {} ms: {} bytes, {} of them sent; {} region(s) skipped as "
                + "identical, {} as zeros on both sides", volume, regionsCopied - skipped - zeroSkipped, pass.sourceNode(), throughEra,
                done.elapsedNanos() / 1_000_000, bytesCopied, bytesSent, skipped, zeroSkipped);
        return new Result(done, allTombstones);
    }

    /** A buffer for the source's replies to {@code batch}: its bytes plus framing per extent. */
    private ByteBuffer bufferFor(List<Extent> batch) {
        long bytes = 0;
        for (Extent e : batch) {
            bytes += e.length() + SourceReader.FRAMING_PER_EXTENT;
        }
        return buffers.take(bytes);
    }

    /**
     * Extents grouped into data sets of at most {@code dataSetBytes} (a larger extent is a set of its
     * own). The first set is an eighth of that, so the target starts receiving after a short read
     * instead of waiting for a whole set's worth of source reads.
     */
    private List<List<Extent>> batches(List<Extent> extents) {
        List<List<Extent>> batches = new ArrayList<>();
        int i = 0;
        while (i < extents.size()) {
            List<Extent> batch = new ArrayList<>();
            long bytes = 0;
            long limit = batches.isEmpty() ? Math.max(1, settings.dataSetBytes() / 8) : settings.dataSetBytes();
            while (i < extents.size() && (batch.isEmpty() || bytes + extents.get(i).length() <= limit)) {
                bytes += extents.get(i).length();
                batch.add(extents.get(i++));
            }
            batches.add(batch);
        }
        return batches;
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

    /** Regions of {@code batch} whose SHA-256 is the same on the source (hashed from {@code data}) and the target (one round trip). */
    private RoaringBitmap identicalRegions(Pass pass, List<Extent> batch, List<ByteBuffer> data) throws InterruptedException {
        RegionGeometry geometry = pass.geometry();
        RoaringBitmap same = new RoaringBitmap();
        MessageDigest sha = sha256();
        List<long[]> ranges = batch.stream().map(e -> new long[] {e.offset(), e.length()}).toList();
        List<List<byte[]>> remote = await(pass.target().hashes(pass.volume(), ranges, geometry.regionSize()).toCompletableFuture(),
                "hashes of " + pass.volume());
        for (int i = 0; i < batch.size(); i++) {
            Extent e = batch.get(i);
            List<byte[]> digests = remote.get(i);
            for (int k = 0; k < e.regionCount(); k++) {
                long region = e.firstRegion() + k;
                if (k < digests.size() && Arrays.equals(BlockHashes.digest(sha, regionBytes(geometry, e, data.get(i), region)),
                        digests.get(k))) {
                    same.add(region, region + 1);
                }
            }
        }
        return same;
    }

    /** Regions of {@code batch} whose source bytes are all zero (a vectorised compare over the set's buffer). */
    private static RoaringBitmap zeroRegions(RegionGeometry geometry, List<Extent> batch, List<ByteBuffer> data) {
        RoaringBitmap zero = new RoaringBitmap();
        for (int i = 0; i < batch.size(); i++) {
            Extent e = batch.get(i);
            for (int k = 0; k < e.regionCount(); k++) {
                long region = e.firstRegion() + k;
                if (BlockHashes.isZero(regionBytes(geometry, e, data.get(i), region))) {
                    zero.add(region, region + 1);
                }
            }
        }
        return zero;
    }

    /**
     * Of {@code zero} (regions the source holds only zeros in), those that read as zeros on the target
     * too: one HASH round trip over their runs, each digest compared with that of a zero region, which the
     * target answers without hashing (see {@link BlockHashes#digest}). A fresh sparse replica answers
     * yes for every hole; those regions then cost neither wire bytes nor a replica write. The others are
     * sent as they are.
     */
    private RoaringBitmap zeroOnTarget(Pass pass, RoaringBitmap zero) throws InterruptedException {
        RegionGeometry geometry = pass.geometry();
        List<long[]> ranges = new ArrayList<>();
        List<Long> firsts = new ArrayList<>();
        long maxRun = Math.max(1, Math.min(io.blockrep.common.link.LinkMessage.MAX_HASH_BYTES / geometry.regionSize(),
                io.blockrep.common.link.LinkMessage.MAX_HASH_BLOCKS));
        zero.forEach((org.roaringbitmap.IntConsumer) r -> {
            long region = Integer.toUnsignedLong(r);
            int last = firsts.size() - 1;
            if (last >= 0 && firsts.get(last) + ranges.get(last)[2] == region && ranges.get(last)[2] < maxRun) {
                long[] run = ranges.get(last);
                run[1] += geometry.regionLength(region);
                run[2]++;
            } else {
                firsts.add(region);
                ranges.add(new long[] {geometry.regionStart(region), geometry.regionLength(region), 1});
            }
        });
        List<long[]> asked = ranges.stream().map(r -> new long[] {r[0], r[1]}).toList();
        List<List<byte[]>> remote = await(pass.target().hashes(pass.volume(), asked, geometry.regionSize()).toCompletableFuture(),
                "hashes of " + pass.volume());
        RoaringBitmap there = new RoaringBitmap();
        for (int i = 0; i < ranges.size(); i++) {
            List<byte[]> digests = remote.get(i);
            for (int k = 0; k < ranges.get(i)[2] && k < digests.size(); k++) {
                long region = firsts.get(i) + k;
                if (Arrays.equals(zeroDigest(geometry.regionLength(region)), digests.get(k))) {
                    there.add(region, region + 1);
                }
            }
        }
        return there;
    }

    private final Map<Integer, byte[]> zeroDigests = new java.util.HashMap<>();

    private byte[] zeroDigest(int length) {
        return zeroDigests.computeIfAbsent(length, n -> BlockHashes.digest(sha256(), ByteBuffer.allocate(n)));
    }

    private static List<ReplicaTarget.ExtentData> extentData(List<Extent> batch, List<ByteBuffer> data) {
        if (data.size() != batch.size()) {
            throw new FatalException("the source answered " + data.size() + " extents for " + batch.size());
        }
        List<ReplicaTarget.ExtentData> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            ByteBuffer d = data.get(i);
            if (d.remaining() != batch.get(i).length()) {
                throw new FatalException("the source answered " + d.remaining() + " bytes for an extent of " + batch.get(i).length());
            }
            out.add(new ReplicaTarget.ExtentData(batch.get(i).offset(), d));
        }
        return out;
    }

    /** The batch's data without the regions in {@code skip}: each extent split into its runs of regions to send. */
    private static List<ReplicaTarget.ExtentData> without(RegionGeometry geometry, List<Extent> batch, List<ByteBuffer> data,
                                                          RoaringBitmap skip) {
        List<ReplicaTarget.ExtentData> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Extent e = batch.get(i);
            long runStart = -1;
            for (long region = e.firstRegion(); region <= e.firstRegion() + e.regionCount(); region++) {
                boolean send = region < e.firstRegion() + e.regionCount() && !skip.contains((int) region);
                if (send && runStart < 0) {
                    runStart = region;
                } else if (!send && runStart >= 0) {
                    int from = (int) (geometry.regionStart(runStart) - e.offset());
                    int to = (int) (geometry.regionStart(region - 1) + geometry.regionLength(region - 1) - e.offset());
                    out.add(new ReplicaTarget.ExtentData(geometry.regionStart(runStart), data.get(i).duplicate().position(from).limit(to).slice()));
                    runStart = -1;
                }
            }
        }
        return out;
    }

    private static ByteBuffer regionBytes(RegionGeometry geometry, Extent e, ByteBuffer extentData, long region) {
        int from = (int) (geometry.regionStart(region) - e.offset());
        return extentData.duplicate().position(from).limit(from + geometry.regionLength(region)).slice();
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
