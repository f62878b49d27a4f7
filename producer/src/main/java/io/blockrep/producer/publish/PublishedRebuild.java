package io.blockrep.producer.publish;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.registry.RegistryCodecs;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads dirty partitions from the beginning to their end offset and tells, for this node's volumes,
 * which region records Kafka already holds. A key whose latest value decodes counts, and so does a
 * tombstoned key (the replayer copied that region: sending it again would undo the copy's record).
 * A key whose latest value does not decode does not count, so the region is sent again with a good
 * value; undecodable keys and values are skipped with a WARN naming partition and offset.
 */
final class PublishedRebuild {
    private static final Logger LOG = LoggerFactory.getLogger(PublishedRebuild.class);

    /** What Kafka holds of one (volume, era). */
    static final class Held {
        final RoaringBitmap regions = new RoaringBitmap();
        boolean marker;
    }

    private final Properties consumerProps;
    private final String topic;
    private final String node;
    private final Duration stallTimeout;
    private final Clock clock;
    private final RegistryCodecs codecs;

    /** {@code codecs}: the readers' codecs (both formats); a registry that cannot be reached is thrown (retriable). */
    PublishedRebuild(Properties consumerProps, String topic, String node, Duration stallTimeout, Clock clock, RegistryCodecs codecs) {
        this.codecs = codecs;
        this.consumerProps = consumerProps;
        this.topic = topic;
        this.node = node;
        this.stallTimeout = stallTimeout;
        this.clock = clock;
    }

    /** Reads {@code partitions}; returns volume → era → held records, for {@code volumes} only. */
    Map<String, Map<Long, Held>> read(Set<Integer> partitions, Set<String> volumes) {
        Map<String, Map<Long, Held>> held = new HashMap<>();
        List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p)).toList();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps)) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, stallTimeout);
            long lastProgress = clock.millis();
            while (!caughtUp(consumer, end)) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    lastProgress = clock.millis();
                } else if (clock.millis() - lastProgress > stallTimeout.toMillis()) {
                    throw new RetriableException("reading " + topic + " " + partitions + " made no progress for " + stallTimeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    apply(r, volumes, held);
                }
            }
        } catch (KafkaException e) {
            throw new RetriableException("cannot read " + topic + " " + partitions + ": " + e, e);
        }
        return held;
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void apply(ConsumerRecord<byte[], byte[]> r, Set<String> volumes, Map<String, Map<Long, Held>> held) {
        DirtyKey key;
        try {
            key = DirtyKey.parse(r.key());
        } catch (PoisonRecordException e) {
            LOG.warn("skipping poison record in {}-{} at offset {}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            return;
        }
        if (!key.node().equals(node) || !volumes.contains(key.volume())) {
            return;
        }
        if (!key.isEraClosed() && key.region() > 0xFFFF_FFFFL) {
            LOG.warn("skipping record in {}-{} at offset {}: region {} is out of range", r.topic(), r.partition(), r.offset(), key.region());
            return;
        }
        Held h = held.computeIfAbsent(key.volume(), v -> new HashMap<>()).computeIfAbsent(key.era(), e -> new Held());
        boolean good = r.value() == null || decodes(r, key);
        if (key.isEraClosed()) {
            h.marker = good;
        } else if (good) {
            h.regions.add((int) key.region());
        } else {
            h.regions.remove((int) key.region());
        }
    }

    private boolean decodes(ConsumerRecord<byte[], byte[]> r, DirtyKey key) {
        try {
            if (key.isEraClosed()) {
                codecs.eraClosed().decode(r.value());
            } else {
                codecs.dirtyRegion().decode(r.value());
            }
            return true;
        } catch (PoisonRecordException e) {
            LOG.warn("poison value for key {} in {}-{} at offset {} will be replaced: {}", key, r.topic(), r.partition(),
                    r.offset(), e.getMessage());
            return false;
        }
    }
}
