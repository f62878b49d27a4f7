package io.blockrep.connect;

import static io.blockrep.connect.MirrorRecords.live;
import static io.blockrep.connect.MirrorRecords.publish;
import static io.blockrep.connect.MirrorRecords.topicConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.MirrorMaker;
import io.blockrep.testkit.kafka.TopicContents;
import io.blockrep.testkit.kafka.TwoSiteKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MirrorMaker 2 run from {@code connect-config/mm2.properties} as deployed (default replication policy, both
 * directions) between two one-broker clusters: the facility's dirty records reach the peer site under
 * {@code <alias>.<topic>}, compacted, with their partition, and tombstones follow.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MirrorMakerConfigIT {
    private static final Logger log = LoggerFactory.getLogger(MirrorMakerConfigIT.class);
    private static final Duration MIRRORED = Duration.ofSeconds(60);
    private static final int PARTITIONS = 3;
    private static final TopicLayout LAYOUT = TopicLayout.defaults();

    private TwoSiteKafka kafka;
    private MirrorMaker mirror;

    @BeforeAll
    void startSites() {
        kafka = TwoSiteKafka.start();
        for (String site : kafka.sites()) {
            // as each facility does at its start, before MirrorMaker looks for topics
            MirrorRecords.createTopics(kafka.admin(site), LAYOUT, PARTITIONS);
        }
        mirror = MirrorMaker.fromRepository()
                .bootstrapServers("site-a", kafka.bootstrapServers("site-a"))
                .bootstrapServers("site-b", kafka.bootstrapServers("site-b"))
                .start();
    }

    @AfterAll
    void stopSites() {
        if (mirror != null) {
            mirror.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void siteADirtyRecordsAppearOnSiteBCompactedInTheirPartition() throws Exception {
        String mirrored = "site-a." + LAYOUT.dirty();
        Map<DirtyKey, DirtyRegion> sent;
        long sentAt;
        try (KafkaProducer<byte[], byte[]> p = MirrorRecords.producer(kafka.bootstrapServers("site-a"))) {
            sent = publish(p, LAYOUT.dirty(), PARTITIONS, "vol-a", "site-a", 7, LongStream.range(0, 20).boxed().toList());
            sentAt = System.nanoTime();
        }
        await("site-a's dirty records on site-b").atMost(MIRRORED).ignoreExceptions()
                .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored)).keySet(),
                        keys -> keys.containsAll(sent.keySet()));
        log.info("20 dirty records mirrored site-a -> site-b within {} ms of their acks", (System.nanoTime() - sentAt) / 1_000_000);

        List<ConsumerRecord<byte[], byte[]>> onB = TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored);
        assertThat(live(onB)).containsAllEntriesOf(sent);
        int partition = TopicLayout.partitionFor("vol-a", PARTITIONS);
        assertThat(onB).filteredOn(r -> DirtyKey.parse(r.key()).volume().equals("vol-a")).hasSize(sent.size())
                .allSatisfy(r -> assertThat(r.partition()).as("partition of %s", MirrorRecords.keyText(r)).isEqualTo(partition));
        assertThat(kafka.admin("site-b").describeTopics(List.of(mirrored)).allTopicNames().get().get(mirrored).partitions())
                .hasSize(PARTITIONS);
        assertThat(topicConfig(kafka.admin("site-b"), mirrored, TopicConfig.CLEANUP_POLICY_CONFIG))
                .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        await("site-a's events topic on site-b, with its retention").atMost(MIRRORED).ignoreExceptions()
                .until(() -> topicConfig(kafka.admin("site-b"), "site-a." + LAYOUT.events(), TopicConfig.RETENTION_MS_CONFIG),
                        v -> v.equals(Long.toString(TopicLayout.EVENTS_RETENTION.toMillis())));
    }

    @Test
    void aTombstoneOnSiteALeavesNoLiveKeyOnSiteB() throws Exception {
        String mirrored = "site-a." + LAYOUT.dirty();
        try (KafkaProducer<byte[], byte[]> p = MirrorRecords.producer(kafka.bootstrapServers("site-a"))) {
            Map<DirtyKey, DirtyRegion> sent = publish(p, LAYOUT.dirty(), PARTITIONS, "vol-t", "site-a", 3, List.of(10L, 11L, 12L));
            await().atMost(MIRRORED).ignoreExceptions()
                    .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored)).keySet(),
                            keys -> keys.containsAll(sent.keySet()));
            // the replayer copied era 3 and tombstones it on site-a's cluster
            for (DirtyKey key : sent.keySet()) {
                MirrorRecords.tombstone(p, LAYOUT.dirty(), PARTITIONS, key);
            }
            long tombstonedAt = System.nanoTime();
            await("the tombstones on site-b").atMost(MIRRORED).ignoreExceptions()
                    .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored)).keySet(),
                            keys -> keys.stream().noneMatch(k -> k.volume().equals("vol-t")));
            log.info("3 tombstones mirrored site-a -> site-b within {} ms", (System.nanoTime() - tombstonedAt) / 1_000_000);
            List<ConsumerRecord<byte[], byte[]>> onB = TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored);
            assertThat(onB).filteredOn(r -> DirtyKey.parse(r.key()).volume().equals("vol-t") && r.value() == null)
                    .hasSize(3);
        }
    }

    @Test
    void siteBRecordsAppearOnSiteAAndNothingIsMirroredBack() throws Exception {
        String mirrored = "site-b." + LAYOUT.dirty();
        try (KafkaProducer<byte[], byte[]> p = MirrorRecords.producer(kafka.bootstrapServers("site-b"))) {
            Map<DirtyKey, DirtyRegion> sent = publish(p, LAYOUT.dirty(), PARTITIONS, "vol-b", "site-b", 2, List.of(0L, 5L));
            long sentAt = System.nanoTime();
            await("site-b's dirty records on site-a").atMost(MIRRORED).ignoreExceptions()
                    .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-a"), mirrored)),
                            l -> l.entrySet().containsAll(sent.entrySet()));
            log.info("2 dirty records mirrored site-b -> site-a within {} ms", (System.nanoTime() - sentAt) / 1_000_000);
        }
        assertThat(topicConfig(kafka.admin("site-a"), mirrored, TopicConfig.CLEANUP_POLICY_CONFIG))
                .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        // the default policy's cycle check: a mirrored topic is not mirrored again, so neither site gets its own
        // records back under the peer's alias, nor a doubly-prefixed topic
        assertThat(kafka.admin("site-a").listTopics().names().get())
                .noneMatch(t -> t.startsWith("site-a.") || t.startsWith("site-b.site-a."));
        assertThat(kafka.admin("site-b").listTopics().names().get())
                .noneMatch(t -> t.startsWith("site-b.") || t.startsWith("site-a.site-b."));
        // heartbeats are on (site-b.heartbeats follows once the source connector's next topic refresh, up to 30 s,
        // finds the heartbeats topic created after it started: not waited for here)
        await("heartbeats").atMost(MIRRORED).ignoreExceptions()
                .until(() -> kafka.admin("site-a").listTopics().names().get(), t -> t.contains("heartbeats"));
    }

    @Test
    void mirrorLatencyOnceRunning() throws Exception {
        String mirrored = "site-a." + LAYOUT.events();
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers("site-b"));
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        // events are keyed by volume; any bytes do for a latency probe
        try (KafkaProducer<byte[], byte[]> p = MirrorRecords.producer(kafka.bootstrapServers("site-a"));
                KafkaConsumer<byte[], byte[]> onB = new KafkaConsumer<>(c)) {
            p.send(new ProducerRecord<>(LAYOUT.events(), "warm-up".getBytes(StandardCharsets.UTF_8), new byte[1])).get();
            await("the mirrored events topic").atMost(MIRRORED).ignoreExceptions()
                    .until(() -> !TopicContents.readAll(kafka.bootstrapServers("site-b"), mirrored).isEmpty());
            List<TopicPartition> tps = onB.partitionsFor(mirrored, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(mirrored, i.partition())).toList();
            onB.assign(tps);
            onB.seekToEnd(tps);
            tps.forEach(onB::position);
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                byte[] key = ("probe-" + i).getBytes(StandardCharsets.UTF_8);
                p.send(new ProducerRecord<>(LAYOUT.events(), key, key)).get();
                long ackedAt = System.nanoTime();
                boolean seen = false;
                while (!seen && System.nanoTime() - ackedAt < MIRRORED.toNanos()) {
                    for (ConsumerRecord<byte[], byte[]> r : onB.poll(Duration.ofMillis(10))) {
                        seen |= Arrays.equals(r.key(), key);
                    }
                }
                assertThat(seen).as("probe %d mirrored", i).isTrue();
                millis.add((System.nanoTime() - ackedAt) / 1_000_000);
            }
            log.info("mirror latency site-a -> site-b, ack on A to poll on B, 5 probes: {} ms", millis);
        }
    }
}
