package io.blockrep.replayer.index;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.RegistryCodecs;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

/**
 * Rebuilds a {@link DirtySetIndex} from given partitions of the dirty topic and keeps following them:
 * the one-shot ops path. A plain {@link KafkaConsumer} with {@code assign}, no group, nothing committed.
 *
 * <p>Threading: not thread-safe; one owner thread calls {@link #rebuild}, {@link #poll} and
 * {@link #close} (KafkaConsumer is single-threaded). The {@link #index()} may be queried from any thread.
 */
public final class DirtyTopicReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final DirtySetIndex index;

    /** @param clientProperties bootstrap servers and any other client settings; a group id is ignored */
    public DirtyTopicReader(Properties clientProperties, String topic) {
        this(clientProperties, topic, RegistryCodecs.withoutRegistry(), PoisonSink.NONE);
    }

    /**
     * Reads values with {@code codecs} (both formats with a registry) and hands poison records to {@code poison}.
     * A registry that cannot be reached while resolving a writer id is thrown from {@link #rebuild} and {@link #poll}
     * (retriable).
     */
    public DirtyTopicReader(Properties clientProperties, String topic, RegistryCodecs codecs, PoisonSink poison) {
        this.index = new DirtySetIndex(codecs, poison);
        this.consumer = new KafkaConsumer<>(Clients.consumer(clientProperties, "blockrep-dirty-reader", null));
        this.topic = topic;
    }

    public DirtySetIndex index() {
        return index;
    }

    /** Every partition of the topic, as the broker reports them now. */
    public List<Integer> partitions(Duration timeout) {
        try {
            return consumer.partitionsFor(topic, timeout).stream().map(p -> p.partition()).sorted().toList();
        } catch (KafkaException e) {
            throw new RetriableException("cannot list the partitions of " + topic + ": " + e, e);
        }
    }

    /**
     * Assigns {@code partitions} (replacing any earlier assignment), reads them from the beginning up
     * to their end offsets as of this call, and applies every record to the index.
     *
     * @return the number of records applied
     * @throws RetriableException if the end is not reached within {@code timeout}
     */
    public long rebuild(Collection<Integer> partitions, Duration timeout) {
        List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p)).toList();
        long deadline = System.nanoTime() + timeout.toNanos();
        long applied = 0;
        try {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, timeout);
            while (tps.stream().anyMatch(tp -> consumer.position(tp, timeout) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new RetriableException("rebuild of " + tps + " did not reach end offsets " + end + " within " + timeout);
                }
                applied += poll(Duration.ofMillis(100));
            }
        } catch (KafkaException e) {
            throw new RetriableException("cannot rebuild the dirty set from " + tps + ": " + e, e);
        }
        return applied;
    }

    /** Applies what arrived on the assigned partitions, waiting up to {@code timeout}; returns the count. */
    public int poll(Duration timeout) {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            index.apply(r);
            n++;
        }
        return n;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
