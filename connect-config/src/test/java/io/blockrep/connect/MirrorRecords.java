package io.blockrep.connect;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicAdmin;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import org.awaitility.Awaitility;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Dirty records as the facility writes them (key text, Avro value, the volume's partition), and what the mirror holds. */
final class MirrorRecords {
    static final int REGION_SIZE = 64 * 1024;
    static final long VOLUME_SIZE = 64L * 1024 * 1024;

    private MirrorRecords() {
    }

    /**
     * The blockrep topics, created as a facility creates them at start ({@link TopicAdmin#ensureTopics}), retried
     * on its retriable failure as the facility retries: right after a create, describing the new topic's configs
     * can fail with UnknownTopicOrPartition until the broker's metadata catches up.
     */
    static void createTopics(Admin admin, TopicLayout layout, int partitions) {
        Awaitility.await("blockrep topics").atMost(Duration.ofSeconds(30)).ignoreException(RetriableException.class)
                .until(() -> TopicAdmin.ensureTopics(admin, layout.prefix(), partitions, (short) 1) == partitions);
    }

    static DirtyRegion value(long firstWriteMillis) {
        return DirtyRegion.newBuilder().setFirstWriteMillis(firstWriteMillis).setRegionSize(REGION_SIZE)
                .setVolumeSize(VOLUME_SIZE).setCause(DirtyCause.LOGGED_WRITE).build();
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Sends {@code regions} of one era as the facility does (explicit partition from the volume id) and waits for the acks. */
    static Map<DirtyKey, DirtyRegion> publish(KafkaProducer<byte[], byte[]> producer, String topic, int partitions,
            String volume, String node, long era, List<Long> regions) throws ExecutionException, InterruptedException {
        Map<DirtyKey, DirtyRegion> sent = new LinkedHashMap<>();
        int partition = TopicLayout.partitionFor(volume, partitions);
        for (long region : regions) {
            DirtyKey key = DirtyKey.region(volume, node, era, region);
            DirtyRegion value = value(System.currentTimeMillis());
            producer.send(new ProducerRecord<>(topic, partition, key.bytes(), Codecs.DIRTY_REGION.encode(value))).get();
            sent.put(key, value);
        }
        return sent;
    }

    static void tombstone(KafkaProducer<byte[], byte[]> producer, String topic, int partitions, DirtyKey key)
            throws ExecutionException, InterruptedException {
        producer.send(new ProducerRecord<>(topic, TopicLayout.partitionFor(key.volume(), partitions), key.bytes(), null)).get();
    }

    /** The live dirty keys of a topic's records (last value per key, tombstones remove), decoded. */
    static Map<DirtyKey, DirtyRegion> live(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<DirtyKey, DirtyRegion> live = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            DirtyKey key = DirtyKey.parse(r.key());
            if (r.value() == null) {
                live.remove(key);
            } else {
                live.put(key, Codecs.DIRTY_REGION.decode(r.value()));
            }
        }
        return live;
    }

    static String keyText(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.key(), StandardCharsets.UTF_8);
    }

    static String topicConfig(Admin admin, String topic, String name) throws ExecutionException, InterruptedException {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
        return c.get(name) == null ? null : c.get(name).value();
    }
}
