package io.blockrep.replayer.index;

import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.RegistryCodecs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a {@link DirtySetIndex} from given partitions of the dirty topic and keeps following them:
 * the one-shot ops path. A plain {@link KafkaConsumer} with {@code assign}, no group, nothing committed.
 * Given {@link SourceTopics} with mirrored peer topics, partition p is read in every one of them (a
 * mirrored topic has its source's partition count, so a volume is in the same partition number
 * everywhere) and merged by the index's rule; a mirrored topic that does not exist (yet) is left out
 * with a warning, and looked for again at the next {@link #rebuild}.
 *
 * <p>Threading: not thread-safe; one owner thread calls {@link #rebuild}, {@link #poll} and
 * {@link #close} (KafkaConsumer is single-threaded). The {@link #index()} may be queried from any thread.
 */
public final class DirtyTopicReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DirtyTopicReader.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    /** The local dirty topic: its partitions are the ones listed and numbered. */
    private final String topic;
    private final List<String> topics;
    private final DirtySetIndex index;

    /** @param clientProperties bootstrap servers and any other client settings; a group id is ignored */
    public DirtyTopicReader(Properties clientProperties, String topic) {
        this(clientProperties, List.of(topic), new DirtySetIndex());
    }

    /** Reads every dirty topic of {@code topics} (the local one and the mirrored peers'), merged. */
    public DirtyTopicReader(Properties clientProperties, SourceTopics topics) {
        this(clientProperties, topics.dirty(), DirtySetIndex.over(topics));
    }

    /**
     * Reads values with {@code codecs} (both formats with a registry) and hands poison records to {@code poison}.
     * A registry that cannot be reached while resolving a writer id is thrown from {@link #rebuild} and {@link #poll}
     * (retriable).
     */
    public DirtyTopicReader(Properties clientProperties, String topic, RegistryCodecs codecs, PoisonSink poison) {
        this(clientProperties, List.of(topic), new DirtySetIndex(codecs, poison));
    }

    /** Reads every dirty topic of {@code topics}, merged, with {@code codecs}; poison records go to {@code poison}. */
    public DirtyTopicReader(Properties clientProperties, SourceTopics topics, RegistryCodecs codecs, PoisonSink poison) {
        this(clientProperties, topics.dirty(), DirtySetIndex.over(topics, codecs, poison));
    }

    private DirtyTopicReader(Properties clientProperties, List<String> topics, DirtySetIndex index) {
        this.consumer = new KafkaConsumer<>(Clients.consumer(clientProperties, "blockrep-dirty-reader", null));
        this.topic = topics.get(0);
        this.topics = List.copyOf(topics);
        this.index = index;
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
        List<TopicPartition> tps = new ArrayList<>(partitions.stream().map(p -> new TopicPartition(topic, p)).toList());
        for (String mirrored : topics.subList(1, topics.size())) {
            int count = partitionCount(mirrored, timeout);
            if (count > 0 && count != partitionCount(topic, timeout)) {
                throw new FatalException(mirrored + " has " + count + " partitions, " + topic + " " + partitionCount(topic, timeout)
                        + ": a volume's records would be in different partitions (MirrorMaker 2 mirrors partitions one to one; "
                        + "was a topic re-created or partitions added?)");
            }
            if (count > 0) {
                partitions.forEach(p -> tps.add(new TopicPartition(mirrored, p)));
            } else {
                LOG.warn("mirrored dirty topic {} does not exist on this cluster (yet): is MirrorMaker 2 running with the replication "
                        + "policy and aliases of replayer.mirror.*? Reading without it", mirrored);
            }
        }
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

    /** The partition count of {@code name}, 0 when it does not exist. */
    private int partitionCount(String name, Duration timeout) {
        try {
            List<?> found = consumer.partitionsFor(name, timeout);
            return found == null ? 0 : found.size();
        } catch (KafkaException e) {
            return 0;
        }
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
