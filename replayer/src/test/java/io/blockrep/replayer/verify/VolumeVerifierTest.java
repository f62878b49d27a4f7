package io.blockrep.replayer.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.copy.RateLimiter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link VolumeVerifier} over two in-memory copies hashed as a facility would, with a fake clock for the limiter. */
class VolumeVerifierTest {
    private static final int REGION = 4096;

    /** Hashes {@code copy} as the link's HASH request does: SHA-256 of each block, the last one short. */
    static VolumeVerifier.Hasher hasher(byte[] copy, List<long[]> requests) {
        return (volume, offset, length, regionSize) -> {
            requests.add(new long[] {offset, length});
            List<byte[]> out = new ArrayList<>();
            for (long o = offset; o < offset + length; o += regionSize) {
                int n = (int) Math.min(regionSize, offset + length - o);
                try {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    md.update(ByteBuffer.wrap(copy, (int) o, n));
                    out.add(md.digest());
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new AssertionError(e);
                }
            }
            return out;
        };
    }

    private final AtomicLong nanos = new AtomicLong();
    private final List<Long> slept = new ArrayList<>();

    private VolumeVerifier verifier(long rate) {
        RateLimiter limiter = new RateLimiter(rate, nanos::get, n -> {
            slept.add(n);
            nanos.addAndGet(n);
        });
        return new VolumeVerifier(limiter, nanos::get);
    }

    @Test
    void reportsExactlyTheRegionsThatDifferIncludingAShortLastRegion() throws Exception {
        RegionGeometry g = new RegionGeometry(100L * REGION + 512, REGION);
        byte[] source = new byte[(int) g.size()];
        byte[] replica = source.clone();
        replica[5 * REGION + 1] = 1;
        replica[6 * REGION] = 1;
        replica[(int) g.size() - 1] = 1;

        VolumeVerifier.Result r = verifier(0).compare("vol", g, hasher(source, new ArrayList<>()), hasher(replica, new ArrayList<>()),
                () -> false);

        assertThat(r.complete()).isTrue();
        assertThat(r.regionsChecked()).isEqualTo(101);
        assertThat(r.differing()).containsExactly(5L, 6L, 100L);
    }

    @Test
    void identicalCopiesDifferNowhere() throws Exception {
        RegionGeometry g = new RegionGeometry(64L * REGION, REGION);
        byte[] source = new byte[(int) g.size()];
        VolumeVerifier.Result r = verifier(0).compare("vol", g, hasher(source, new ArrayList<>()),
                hasher(source.clone(), new ArrayList<>()), () -> false);
        assertThat(r.differing()).isEmpty();
        assertThat(r.regionsChecked()).isEqualTo(64);
    }

    @Test
    void aRegionThatMatchesWhenHashedAgainWasAWriteInFlightAndIsNotReported() throws Exception {
        RegionGeometry g = new RegionGeometry(16L * REGION, REGION);
        byte[] source = new byte[(int) g.size()];
        byte[] replica = source.clone();
        replica[3 * REGION] = 9;   // a real difference
        source[8 * REGION] = 7;    // a mirrored write that reaches the replica between the two looks
        AtomicInteger replicaCalls = new AtomicInteger();
        VolumeVerifier.Hasher replicaHasher = hasher(replica, new ArrayList<>());
        VolumeVerifier.Hasher lateReplica = (v, o, l, rs) -> {
            if (replicaCalls.incrementAndGet() == 2) {
                replica[8 * REGION] = 7;
            }
            return replicaHasher.hashes(v, o, l, rs);
        };
        // The mirrored write lands after the first pass hashed it: only region 3 still differs on the recheck.
        VolumeVerifier.Result r = verifier(0).compare("vol", g, hasher(source, new ArrayList<>()), lateReplica, () -> false);
        assertThat(r.differing()).containsExactly(3L);
    }

    @Test
    void chunksAreAboutOneSecondOfTheRateAndTheLimiterPacesThem() throws Exception {
        RegionGeometry g = new RegionGeometry(256L * REGION, REGION);   // 1 MiB
        byte[] source = new byte[(int) g.size()];
        List<long[]> requests = new ArrayList<>();
        long rate = 64L * REGION;                                          // 256 KiB/s
        verifier(rate).compare("vol", g, hasher(source, requests), hasher(source.clone(), new ArrayList<>()), () -> false);

        assertThat(requests).hasSize(4).allSatisfy(req -> assertThat(req[1]).isEqualTo(rate));
        // The first chunk uses the bucket's initial second; the other three wait about one second each.
        assertThat(slept).hasSize(3).allSatisfy(n -> assertThat(n).isBetween(900_000_000L, 1_100_000_000L));
        assertThat(VolumeVerifier.chunkBytes(g, 0)).isEqualTo(VolumeVerifier.MAX_CHUNK_BYTES);
        assertThat(VolumeVerifier.chunkBytes(g, 100)).as("at least one region").isEqualTo(REGION);
    }

    @Test
    void stopEndsTheCompareBetweenChunksWithThePartChecked() throws Exception {
        RegionGeometry g = new RegionGeometry(256L * REGION, REGION);
        byte[] source = new byte[(int) g.size()];
        byte[] replica = source.clone();
        replica[10] = 1;
        replica[200 * REGION] = 1;
        List<long[]> requests = new ArrayList<>();
        VolumeVerifier.Result r = verifier(64L * REGION).compare("vol", g, hasher(source, requests), hasher(replica, new ArrayList<>()),
                () -> requests.size() >= 2);
        assertThat(r.complete()).isFalse();
        assertThat(r.regionsChecked()).isEqualTo(128);
        assertThat(r.differing()).containsExactly(0L);
    }
}
