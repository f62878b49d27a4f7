package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.ReplicatedVolume;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.dlq.DeadLetters;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.AvroValueDeserializer;
import io.blockrep.schemas.registry.ConfluentWireCodec;
import io.blockrep.schemas.registry.RegistryCodecs;
import io.blockrep.schemas.registry.SchemaRegistryClient;
import io.blockrep.schemas.registry.SchemaRegistrySettings;
import io.blockrep.schemas.registry.TopicSubjects;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import io.blockrep.testkit.registry.ApicurioRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14 items 1, 3 and 4, end to end with a real Apicurio Registry 3.3.3: two in-JVM facilities
 * configured with the registry, which is <i>down</i> when they start; the link is cut and the primary
 * takes writes (served, kept in the bitmap, nothing published while the registry is down); the registry
 * comes up and the backlog is published in the Confluent wire format; poison records (garbage bytes, an
 * unknown schema id, a key that does not parse) are written into the dirty topic between real records;
 * a replayer process from the packaged jar, configured with the registry, replays; the replica equals
 * the source; the poison records are in the dead-letter topic with their origin headers; and a plain
 * KafkaConsumer with {@link AvroValueDeserializer} decodes every other record of the dirty and events
 * topics by the schema id it carries, each one of the ids registered under the topics' subjects.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class RegistryReplayIT {
    private static final long SIZE = 64L << 20;
    private static final TopicLayout TOPICS = TopicLayout.defaults();

    @TempDir
    Path dir;

    private final int registryPort = FreePorts.find();
    private final ApicurioRegistry registry = ApicurioRegistry.create().onPort(registryPort);

    @AfterEach
    void stopRegistry() {
        registry.stop();
    }

    @Test
    void anOutageReplaysThroughTheRegistryAndEveryRecordDecodesBySchemaId(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        String url = "http://127.0.0.1:" + registryPort + "/apis/ccompat/v7";
        Map<String, String> registryKeys = Map.of("producer.schema.registry.url", url, "producer.schema.registry.connect.timeout", "1s",
                "producer.schema.registry.request.timeout", "10s");
        try (MultiVolumeSites sites = new MultiVolumeSites(dir, List.of("vol"), SIZE, kafka.bootstrapServers(), registryKeys).start()) {
            ReplicatedVolume primary = sites.siteA.primary("vol").orElseThrow();
            await().atMost(Duration.ofSeconds(30)).until(() -> primary.mode() == Mode.REPLICATING);
            sites.cutTcp();
            await().atMost(Duration.ofSeconds(10)).until(() -> primary.mode() == Mode.LOGGING);

            // The registry is down: the facility serves the writes and keeps them in its bitmap, and publishes nothing.
            ScatteredWrites.write(sites.primaryUri("vol"), SIZE, 8L << 20, 21);
            long firstBatch = primary.dirtyRegions();
            assertThat(firstBatch).isGreaterThan(50);
            assertThat(sites.siteA.status().kafka()).as("the publisher waits for the registry").isEqualTo("UNREACHABLE");
            assertThat(recordsIn(kafka, TOPICS.dirty())).as("nothing published without the registry").isEmpty();

            registry.start();
            SchemaRegistryClient client = new SchemaRegistryClient(SchemaRegistrySettings.builder(url).build());
            RegistryCodecs readers = RegistryCodecs.forReading(client);
            await().atMost(Duration.ofSeconds(60)).until(() -> liveDirtyKeys(kafka, readers) == firstBatch);

            List<byte[]> poisonKeys = writePoison(kafka);
            ScatteredWrites.write(sites.primaryUri("vol"), SIZE, 8L << 20, 22);
            long allDirty = primary.dirtyRegions();
            assertThat(allDirty).isGreaterThan(firstBatch);
            await().atMost(Duration.ofSeconds(60)).until(() -> liveDirtyKeys(kafka, readers) == allDirty);

            Properties rp = sites.replayerProps("r-registry");
            rp.setProperty("replayer.schema.registry.url", url);
            try (ExternalCommand.Running replayer = BlockrepProcess.start("replayer", BlockrepProcess.write(dir.resolve("r.properties"), rp))) {
                sites.restoreTcp();
                BlockrepProcess.await(await().atMost(Duration.ofSeconds(120)),
                        () -> !replayer.isAlive() || primary.mode() == Mode.REPLICATING && primary.dirtyRegions() == 0, replayer);
                assertThat(replayer.isAlive()).as(replayer.stderr()).isTrue();
                ScatteredWrites.flush(sites.primaryUri("vol"));
                assertThat(Checksums.sha256(sites.secondaryFile("vol"))).as("replica equals source")
                        .isEqualTo(Checksums.sha256(sites.primaryFile("vol")));
                await().atMost(Duration.ofSeconds(30)).until(() -> eventTypes(kafka, readers).contains("REPLAY_FINISHED"));
            }

            assertPoisonInTheDeadLetterTopic(kafka, poisonKeys);
            Set<Integer> registered = Set.of(
                    client.lookUp(TopicSubjects.value(TOPICS.dirty()), DirtyRegion.getClassSchema()).orElseThrow().id(),
                    client.lookUp(TopicSubjects.valueOfRecord(TOPICS.dirty(), EraClosed.getClassSchema()), EraClosed.getClassSchema()).orElseThrow().id(),
                    client.lookUp(TopicSubjects.value(TOPICS.events()), VolumeEvent.getClassSchema()).orElseThrow().id());
            assertThat(client.compatibility(TopicSubjects.value(TOPICS.dirty())).name()).isEqualTo("BACKWARD");
            assertThat(client.lookUp(TopicSubjects.key(TOPICS.dirty()), TopicSubjects.STRING_KEY)).as("string key schema").isPresent();
            assertEveryValueDecodesBySchemaId(kafka, url, registered, poisonKeys);
        }
    }

    /** Three records the replayer cannot decode, on the volume's partition between real ones; returns their keys. */
    private static List<byte[]> writePoison(KafkaBroker kafka) {
        int partition = TopicLayout.partitionFor("vol", 3);
        List<byte[]> keys = List.of(DirtyKey.region("vol", "site-z", 1, 3).bytes(), DirtyKey.region("vol", "site-z", 1, 4).bytes(),
                "this is not a dirty key".getBytes(StandardCharsets.UTF_8));
        List<byte[]> values = List.of("garbage bytes".getBytes(StandardCharsets.UTF_8), new byte[] {0, 0x7f, 0x7f, 0x7f, 0x7f, 2, 4, 6},
                Codecs.DIRTY_REGION.encode(new DirtyRegion(1L, 65_536, SIZE, io.blockrep.schemas.DirtyCause.LOGGED_WRITE)));
        Properties p = new Properties();
        p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < keys.size(); i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add("written-by", "RegistryReplayIT".getBytes(StandardCharsets.UTF_8));
                producer.send(new ProducerRecord<>(TOPICS.dirty(), partition, null, keys.get(i), values.get(i), headers));
            }
            producer.flush();
        }
        return keys;
    }

    private static void assertPoisonInTheDeadLetterTopic(KafkaBroker kafka, List<byte[]> poisonKeys) {
        List<ConsumerRecord<byte[], byte[]>> dlq = recordsIn(kafka, TOPICS.dlq());
        Set<String> expected = new HashSet<>();
        poisonKeys.forEach(k -> expected.add(new String(k, StandardCharsets.UTF_8)));
        Map<String, Map<String, String>> headersByKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dlq) {
            Map<String, String> h = new HashMap<>();
            for (Header header : r.headers()) {
                h.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
            }
            // The status app inside the replayer service dead-letters the same records (reader status-app), in its own time.
            if ("replayer".equals(h.get(DeadLetters.READER))) {
                headersByKey.put(new String(r.key(), StandardCharsets.UTF_8), h);
            }
        }
        assertThat(headersByKey.keySet()).as("the poison records, each copied as it was by the replayer").isEqualTo(expected);
        for (Map<String, String> h : headersByKey.values()) {
            assertThat(h).containsEntry("written-by", "RegistryReplayIT").containsEntry(DeadLetters.TOPIC, TOPICS.dirty())
                    .containsEntry(DeadLetters.PARTITION, Integer.toString(TopicLayout.partitionFor("vol", 3)))
                    .containsEntry(DeadLetters.READER, "replayer").containsKeys(DeadLetters.OFFSET, DeadLetters.REASON);
        }
        assertThat(headersByKey.get("vol/site-z/1/3").get(DeadLetters.REASON)).contains("neither Avro single-object encoding");
        assertThat(headersByKey.get("vol/site-z/1/4").get(DeadLetters.REASON)).contains("schema id 2139062143").contains("not in the registry");
        assertThat(headersByKey.get("this is not a dirty key").get(DeadLetters.REASON)).contains("not a dirty key");
    }

    private static void assertEveryValueDecodesBySchemaId(KafkaBroker kafka, String url, Set<Integer> registered, List<byte[]> poisonKeys) {
        Set<String> poison = new HashSet<>();
        poisonKeys.forEach(k -> poison.add(new String(k, StandardCharsets.UTF_8)));
        Map<String, Integer> decodedByRecordName = new HashMap<>();
        Set<String> eventNodes = new HashSet<>();
        try (AvroValueDeserializer deserializer = new AvroValueDeserializer()) {
            deserializer.configure(Map.of(AvroValueDeserializer.URL, url), false);
            for (String topic : List.of(TOPICS.dirty(), TOPICS.events())) {
                for (ConsumerRecord<byte[], byte[]> r : recordsIn(kafka, topic)) {
                    if (r.value() == null || poison.contains(new String(r.key(), StandardCharsets.UTF_8))) {
                        continue;
                    }
                    assertThat(r.value()[0]).as("magic byte of %s@%d", topic, r.offset()).isEqualTo(ConfluentWireCodec.MAGIC);
                    assertThat(registered).as("schema id of %s@%d", topic, r.offset()).contains(ConfluentWireCodec.schemaIdOf(r.value()));
                    GenericRecord value = deserializer.deserialize(topic, r.value());
                    decodedByRecordName.merge(value.getSchema().getName(), 1, Integer::sum);
                    if (topic.equals(TOPICS.events())) {
                        eventNodes.add(value.get("node").toString());
                    }
                }
            }
        }
        assertThat(decodedByRecordName).containsKeys("VolumeEvent", "EraClosed");
        assertThat(eventNodes).as("events of the facility and of the replayer").contains("site-a", "r-registry");
    }

    /** Every record of {@code topic} from the beginning to its end offsets now. */
    private static List<ConsumerRecord<byte[], byte[]>> recordsIn(KafkaBroker kafka, String topic) {
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading %s to its end", topic).isLessThan(deadline);
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static Set<String> eventTypes(KafkaBroker kafka, RegistryCodecs readers) {
        Set<String> types = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : recordsIn(kafka, TOPICS.events())) {
            types.add(readers.volumeEvent().decode(r.value()).getType().name());
        }
        return types;
    }

    private static long liveDirtyKeys(KafkaBroker kafka, RegistryCodecs readers) {
        Properties p = new Properties();
        p.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (DirtyTopicReader reader = new DirtyTopicReader(p, TOPICS.dirty(), readers, PoisonSink.NONE)) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            return reader.index().liveCount("vol");
        }
    }
}
