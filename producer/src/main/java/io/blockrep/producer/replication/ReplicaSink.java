package io.blockrep.producer.replication;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * Where a primary volume's writes are mirrored: the replication link in production, a scripted
 * fake in unit tests. A stage that fails means the peer may not have the write.
 */
public interface ReplicaSink {
    CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua);

    CompletionStage<Void> flush(String volume);
}
