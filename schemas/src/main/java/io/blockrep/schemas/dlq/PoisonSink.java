package io.blockrep.schemas.dlq;

import io.blockrep.schemas.PoisonRecordException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Where a reader hands a record it cannot decode, after it logged it and before it skips it. Must not throw. */
@FunctionalInterface
public interface PoisonSink {
    /** Drops poison records (the reader still counts and logs them). */
    PoisonSink NONE = (record, why) -> {
    };

    /** {@code why}: what the decoder found (its kind and message). */
    void poison(ConsumerRecord<byte[], byte[]> record, PoisonRecordException why);
}
