package io.blockrep.schemas.dlq;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Where a reader hands a record it cannot decode, after it logged it and before it skips it. Must not throw. */
@FunctionalInterface
public interface PoisonSink {
    /** Drops poison records (the reader still counts and logs them). */
    PoisonSink NONE = (record, reason) -> {
    };

    /** {@code reason}: a short text, e.g. the decoder's message. */
    void poison(ConsumerRecord<byte[], byte[]> record, String reason);
}
