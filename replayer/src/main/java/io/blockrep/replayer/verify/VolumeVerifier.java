package io.blockrep.replayer.verify;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.copy.RateLimiter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Compares a volume's source and replica region by region by SHA-256, the engine of both
 * {@code blockrep verify} and the replayer service's scheduled verification. Each side hashes its
 * own copy ({@link Hasher}: a link {@code HASH} request), so only digests cross the network.
 *
 * <p>The volume is walked in chunks of at most {@link #MAX_CHUNK_BYTES} and at most one second of the
 * rate limiter's rate; before each chunk the limiter is asked for its bytes (0 = unlimited) and
 * {@code stop} is asked whether to go on, so a verify yields within about a chunk to a resync that
 * starts. Regions found to differ are hashed once more on both sides before they are reported: a
 * region whose mirrored write was in flight between the two hash requests matches on the second look.
 *
 * <p>Not thread-safe: one compare at a time per instance (the limiter itself is thread-safe).
 */
public final class VolumeVerifier {
    /** Hash requests of at most this many bytes (the link allows 65,536 blocks and 256 MiB per request). */
    public static final long MAX_CHUNK_BYTES = 64L << 20;

    /** SHA-256 of each {@code regionSize} block of {@code [offset, offset+length)} of one side's copy. */
    @FunctionalInterface
    public interface Hasher {
        List<byte[]> hashes(String volume, long offset, long length, int regionSize);
    }

    /**
     * What a compare found. {@code complete} false: it stopped early (asked to), and {@code differing}
     * holds only the regions of the part it checked.
     */
    public record Result(String volume, long regionsChecked, List<Long> differing, long durationMillis, boolean complete) {
        public Result {
            differing = List.copyOf(differing);
        }
    }

    private final RateLimiter limiter;
    private final LongSupplier nanoTime;

    public VolumeVerifier(RateLimiter limiter, LongSupplier nanoTime) {
        this.limiter = limiter;
        this.nanoTime = nanoTime;
    }

    /** An unlimited verifier on the system clock (the ops verb). */
    public static VolumeVerifier unlimited() {
        return new VolumeVerifier(RateLimiter.of(0), System::nanoTime);
    }

    /** Compares every region of the volume; {@code stop} (asked before each chunk) true ends it early. */
    public Result compare(String volume, RegionGeometry geometry, Hasher source, Hasher replica, BooleanSupplier stop)
            throws InterruptedException {
        long t0 = nanoTime.getAsLong();
        long chunk = chunkBytes(geometry, limiter.bytesPerSecond());
        List<Long> suspects = new ArrayList<>();
        long checked = 0;
        boolean complete = true;
        for (long offset = 0; offset < geometry.size(); offset += chunk) {
            if (stop.getAsBoolean()) {
                complete = false;
                break;
            }
            long length = Math.min(chunk, geometry.size() - offset);
            limiter.acquire(length);
            List<byte[]> local = source.hashes(volume, offset, length, geometry.regionSize());
            List<byte[]> remote = replica.hashes(volume, offset, length, geometry.regionSize());
            for (int i = 0; i < local.size(); i++) {
                if (i >= remote.size() || !Arrays.equals(local.get(i), remote.get(i))) {
                    suspects.add(geometry.regionOf(offset) + i);
                }
            }
            checked += geometry.lastRegion(offset, length) - geometry.regionOf(offset) + 1;
        }
        List<Long> differing = recheck(volume, geometry, suspects, source, replica);
        return new Result(volume, checked, differing, (nanoTime.getAsLong() - t0) / 1_000_000, complete);
    }

    /** The suspects that still differ when hashed again, run by run. */
    private List<Long> recheck(String volume, RegionGeometry geometry, List<Long> suspects, Hasher source, Hasher replica)
            throws InterruptedException {
        List<Long> differing = new ArrayList<>();
        int maxRun = (int) Math.max(1, MAX_CHUNK_BYTES / geometry.regionSize());
        int i = 0;
        while (i < suspects.size()) {
            int j = i + 1;
            while (j < suspects.size() && suspects.get(j) == suspects.get(j - 1) + 1 && j - i < maxRun) {
                j++;
            }
            long first = suspects.get(i);
            long offset = first * geometry.regionSize();
            long length = Math.min((long) (j - i) * geometry.regionSize(), geometry.size() - offset);
            limiter.acquire(length);
            List<byte[]> local = source.hashes(volume, offset, length, geometry.regionSize());
            List<byte[]> remote = replica.hashes(volume, offset, length, geometry.regionSize());
            for (int k = 0; k < j - i; k++) {
                if (k >= local.size() || k >= remote.size() || !Arrays.equals(local.get(k), remote.get(k))) {
                    differing.add(first + k);
                }
            }
            i = j;
        }
        return differing;
    }

    /** Whole regions, at most {@link #MAX_CHUNK_BYTES} and (when limited) about one second of the rate, at least one region. */
    static long chunkBytes(RegionGeometry geometry, long bytesPerSecond) {
        long cap = bytesPerSecond > 0 ? Math.min(MAX_CHUNK_BYTES, bytesPerSecond) : MAX_CHUNK_BYTES;
        return Math.max(geometry.regionSize(), cap / geometry.regionSize() * geometry.regionSize());
    }
}
