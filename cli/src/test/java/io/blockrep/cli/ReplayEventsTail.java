package io.blockrep.cli;

import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the events topic from the beginning, without a group, so a test can see what a replayer
 * reported (REPLAY_STARTED after its first data set is applied and tombstoned, REPLAY_FINISHED) and
 * which replayer reported it ({@link VolumeEvent#getNode()}). Not thread-safe: poll from one thread
 * at a time (Awaitility's {@code pollInSameThread()}).
 */
final class ReplayEventsTail implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final List<VolumeEvent> seen = new ArrayList<>();

    ReplayEventsTail(String bootstrapServers, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "test-events-tail");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer = new KafkaConsumer<>(p);
        this.topic = topic;
    }

    /** Reads what arrived since the last call; returns every event seen so far. */
    List<VolumeEvent> poll() {
        if (consumer.assignment().isEmpty()) {
            // The facilities create the topic when they start publishing; until then there is nothing to read.
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            if (partitions.isEmpty()) {
                return List.copyOf(seen);
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            if (r.value() != null) {
                seen.add(Codecs.VOLUME_EVENT.decode(r.value()));
            }
        }
        return List.copyOf(seen);
    }

    /** True once {@code node} has published an event of {@code type} for {@code volume}. */
    boolean has(String volume, String node, EventType type) {
        return poll().stream().anyMatch(e -> e.getVolume().equals(volume) && e.getNode().equals(node) && e.getType() == type);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
