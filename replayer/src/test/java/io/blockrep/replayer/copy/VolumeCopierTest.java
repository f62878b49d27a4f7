package io.blockrep.replayer.copy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.plan.Extent;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

class VolumeCopierTest {
    private static final int REGION = 4096;
    private static final int REGIONS = 256;

    /** An in-memory secondary: applies whole data sets, answers hashes. */
    static final class MemoryReplica implements ReplicaTarget {
        final byte[] bytes = new byte[REGION * REGIONS];
        int sets;

        @Override
        public CompletionStage<Void> sendDataSet(String volume, long setId, List<ExtentData> extents) {
            sets++;
            for (ExtentData e : extents) {
                e.data().duplicate().get(bytes, (int) e.offset(), e.data().remaining());
            }
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
            List<byte[]> out = new ArrayList<>();
            try {
                for (long p = offset; p < offset + length; p += blockSize) {
                    MessageDigest sha = MessageDigest.getInstance("SHA-256");
                    sha.update(bytes, (int) p, (int) Math.min(blockSize, offset + length - p));
                    out.add(sha.digest());
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return CompletableFuture.completedFuture(out);
        }
    }

    @Test
    void copiesTheUnionOfErasAndTombstonesEachRegionInEveryEraItIsLiveIn() throws Exception {
        Random random = new Random(11);
        byte[] source = new byte[REGION * REGIONS];
        random.nextBytes(source);
        MemoryReplica replica = new MemoryReplica();
        System.arraycopy(source, 0, replica.bytes, 0, source.length);
        Map<Long, RoaringBitmap> live = new TreeMap<>();
        live.put(3L, new RoaringBitmap());
        live.put(4L, new RoaringBitmap());
        for (int r = 0; r < REGIONS; r++) {
            if (random.nextInt(3) == 0) {
                live.get(3L).add(r);
                java.util.Arrays.fill(replica.bytes, r * REGION, (r + 1) * REGION, (byte) 0x5A); // stale on the replica
            }
            if (random.nextInt(5) == 0) {
                live.get(4L).add(r);
            }
        }
        Map<Long, RoaringBitmap> tombstoned = new HashMap<>();
        ReplayedRegions tombstones = (volume, node, era, regions) -> {
            tombstoned.computeIfAbsent(era, e -> new RoaringBitmap()).or(regions);
            return CompletableFuture.completedFuture(null);
        };
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(8 * REGION, 32 * REGION, true, 5000), tombstones,
                RateLimiter.of(0));
        List<CopyProgress> reports = new ArrayList<>();
        List<Integer> readSizes = new ArrayList<>();
        SourceReader reader = (volume, extents) -> {
            readSizes.add(extents.size());
            List<ByteBuffer> out = new ArrayList<>();
            for (Extent e : extents) {
                out.add(ByteBuffer.wrap(source, (int) e.offset(), (int) e.length()).slice());
            }
            return CompletableFuture.completedFuture(out);
        };
        VolumeCopier.Result result = copier.copy(new VolumeCopier.Pass("vol", "site-a", new RegionGeometry((long) REGION * REGIONS, REGION),
                reader, replica), live, reports::add);
        copier.awaitTombstones(result, "vol");
        CopyProgress done = result.progress();
        assertThat(replica.bytes).isEqualTo(source);
        assertThat(readSizes).as("one read call per data set, every extent of the set in it").hasSizeGreaterThan(1)
                .allMatch(n -> n >= 1);
        assertThat(tombstoned).isEqualTo(live);
        RoaringBitmap union = RoaringBitmap.or(live.get(3L), live.get(4L));
        assertThat(done.regionsCopied()).isEqualTo(union.getLongCardinality());
        // Regions dirty only in era 4 were never made stale on the replica: their hashes match and they are skipped.
        assertThat(done.regionsSkipped()).isEqualTo(RoaringBitmap.andNot(live.get(4L), live.get(3L)).getLongCardinality());
        assertThat(reports).isNotEmpty();
        assertThat(reports.get(reports.size() - 1).bytesCopied()).isEqualTo(done.bytesTotal());
    }

    /**
     * A full copy of a half-empty volume onto a fresh (all-zero) replica and onto one holding old data:
     * zero regions cost no data bytes where the replica reads zeros already, and are written as zeros
     * where it does not; either way the replica ends equal to the source.
     */
    @Test
    void zeroRegionsAreSkippedWhereTheReplicaIsZeroAndWrittenWhereItIsNot() throws Exception {
        byte[] source = new byte[REGION * REGIONS];
        Random random = new Random(5);
        for (int r = 0; r < REGIONS; r += 2) {
            byte[] region = new byte[REGION];
            random.nextBytes(region);
            System.arraycopy(region, 0, source, r * REGION, REGION);
        }
        RoaringBitmap all = new RoaringBitmap();
        all.add(0L, REGIONS);
        SourceReader reader = (volume, extents) -> {
            List<ByteBuffer> out = new ArrayList<>();
            for (Extent e : extents) {
                out.add(ByteBuffer.wrap(source, (int) e.offset(), (int) e.length()).slice());
            }
            return CompletableFuture.completedFuture(out);
        };
        ReplayedRegions tombstones = (volume, node, era, regions) -> CompletableFuture.completedFuture(null);
        RegionGeometry geometry = new RegionGeometry((long) REGION * REGIONS, REGION);

        MemoryReplica fresh = new MemoryReplica();
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(8 * REGION, 32 * REGION, false, 5000), tombstones,
                RateLimiter.of(0));
        CopyProgress done = copier.copy(new VolumeCopier.Pass("vol", "site-a", geometry, reader, fresh), Map.of(1L, all), p -> { })
                .progress();
        assertThat(fresh.bytes).isEqualTo(source);
        assertThat(done.regionsZero()).isEqualTo(REGIONS / 2);
        assertThat(done.bytesSent()).as("only the regions holding data are sent").isEqualTo((long) REGIONS / 2 * REGION);
        assertThat(done.bytesCopied()).isEqualTo((long) REGIONS * REGION);

        MemoryReplica old = new MemoryReplica();
        java.util.Arrays.fill(old.bytes, (byte) 0x77);
        for (int r = 1; r < REGIONS; r += 4) {
            java.util.Arrays.fill(old.bytes, r * REGION, (r + 1) * REGION, (byte) 0); // some zero there already
        }
        done = copier.copy(new VolumeCopier.Pass("vol", "site-a", geometry, reader, old), Map.of(1L, all), p -> { }).progress();
        assertThat(old.bytes).isEqualTo(source);
        assertThat(done.regionsZero()).isEqualTo(REGIONS / 4);
        assertThat(done.bytesSent()).isEqualTo((long) (REGIONS - REGIONS / 4) * REGION);
    }
}
