package io.blockrep.replayer.copy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.plan.Extent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/**
 * Reading the source does not wait for the target: the copier asks for the next data set's extents
 * before the sets it already sent are acknowledged. The target here acknowledges set k only once the
 * source has been asked for set k + 2, so a copier that read, sent and waited in turn would never
 * see an acknowledgement (and fail on its timeout).
 */
class VolumeCopierPipelineTest {
    private static final int REGION = 4096;
    private static final int SETS = 6;

    @Test
    void theNextSetIsReadWhileEarlierSetsAreStillUnacknowledged() throws Exception {
        List<CompletableFuture<Void>> acks = Collections.synchronizedList(new ArrayList<>());
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        int[] reads = {0};
        SourceReader source = (volume, extents) -> {
            int set = reads[0]++;
            order.add("read " + set);
            if (set >= 2) {
                acks.get(set - 2).complete(null);
            }
            List<ByteBuffer> data = new ArrayList<>();
            for (Extent e : extents) {
                byte[] bytes = new byte[(int) e.length()];
                java.util.Arrays.fill(bytes, (byte) 1); // data: zero regions would be checked on the target first
                data.add(ByteBuffer.wrap(bytes));
            }
            return CompletableFuture.completedFuture(data);
        };
        ReplicaTarget target = new ReplicaTarget() {
            @Override
            public CompletionStage<Void> sendDataSet(String volume, long setId, List<ExtentData> extents) {
                int set = acks.size();
                order.add("send " + set);
                CompletableFuture<Void> ack = new CompletableFuture<>();
                acks.add(ack);
                if (set >= SETS - 2) {
                    ack.complete(null);    // no later read will come to acknowledge the last two
                }
                return ack;
            }

            @Override
            public CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
                throw new UnsupportedOperationException();
            }
        };
        RoaringBitmap dirty = new RoaringBitmap();
        dirty.add(0L, SETS * 4L);                      // 4 regions per set, one extent each
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(4 * REGION, 4 * REGION, false, 2000),
                (volume, node, era, regions) -> CompletableFuture.completedFuture(null), RateLimiter.of(0));
        VolumeCopier.Result result = copier.copy(new VolumeCopier.Pass("vol", "site-a", new RegionGeometry(64L * REGION, REGION),
                source, target), Map.of(1L, dirty), p -> { });
        assertThat(result.progress().regionsCopied()).isEqualTo(SETS * 4L);
        assertThat(acks).hasSize(SETS).allMatch(CompletableFuture::isDone);
        assertThat(order.indexOf("read 1")).as("set 1 is requested from the source before set 0 is even sent")
                .isLessThan(order.indexOf("send 0"));
    }
}
