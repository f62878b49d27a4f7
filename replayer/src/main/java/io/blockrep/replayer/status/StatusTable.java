package io.blockrep.replayer.status;

import io.blockrep.common.RetriableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the whole compacted status topic, as any Kafka client can: every partition from the beginning
 * to its end offset at the time of the call, the last value per volume kept, a tombstone removing it.
 * What {@code blockrep status --bootstrap-server} prints; needs no facility and no consumer group.
 */
public final class StatusTable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusTable.class);

    private StatusTable() {
    }

    /** The status of every volume, by volume id; {@code timeout} bounds the whole read. */
    public static Map<String, VolumeStatus> read(Properties clientProperties, String topic, Duration timeout) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "blockrep-status-reader");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, VolumeStatus> table = new TreeMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            if (partitions.isEmpty()) {
                throw new RetriableException("topic " + topic + " does not exist (no facility has started with this prefix?)");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            while (!reached(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new RetriableException("reading " + topic + " took longer than " + timeout.toSeconds() + " s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    fold(table, r);
                }
            }
        } catch (KafkaException e) {
            throw new RetriableException("cannot read " + topic + ": " + e.getMessage(), e);
        }
        return table;
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private static void fold(Map<String, VolumeStatus> table, ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null) {
            return;
        }
        String volume = new String(r.key(), StandardCharsets.UTF_8);
        if (r.value() == null) {
            table.remove(volume);
            return;
        }
        try {
            table.put(volume, StatusJson.read(r.value()));
        } catch (SerializationException e) {
            LOG.warn("status topic {}-{} offset {}: not a status value, skipped: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        }
    }
}
