package io.blockrep.producer.replication;

import io.blockrep.common.volume.Generation;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a primary volume's writes are mirrored: the replication link in production, a scripted
 * fake in unit tests. A stage that fails means the peer may not have the write.
 */
public interface ReplicaSink {
    CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua);

    CompletionStage<Void> flush(String volume);

    /** Tells the peer where the resync of {@code volume} stands: begun ({@code inSync=false}) or done, with this side's history. */
    default CompletionStage<Void> generation(String volume, boolean inSync, List<Generation> history) {
        return CompletableFuture.completedFuture(null);
    }
}
