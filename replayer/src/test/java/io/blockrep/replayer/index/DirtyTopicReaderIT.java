package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.roaringbitmap.RoaringBitmap;

/** Rebuilds from a real broker: the reader, the tombstoner and the replay events. */
@ExtendWith(KafkaBrokerExtension.class)
class DirtyTopicReaderIT {
    static final int PARTITIONS = 3;
    static final long SIZE = 1L << 30;

    static Properties client(KafkaBroker kafka) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    static TopicLayout topics(KafkaBroker kafka, String prefix) {
        TopicLayout layout = new TopicLayout(prefix);
        layout.topicConfigs().forEach((name, configs) -> kafka.createTopic(name, PARTITIONS, configs));
        return layout;
    }

    /** Sends records in order to the volume's partition, as the facility does, and waits for them. */
    static final class Feed implements AutoCloseable {
        final KafkaProducer<byte[], byte[]> producer;
        final String topic;

        Feed(KafkaBroker kafka, String topic) {
            this.producer = new KafkaProducer<>(Clients.producer(client(kafka), "test-feed"));
            this.topic = topic;
        }

        void send(String volume, byte[] key, byte[] value) {
            producer.send(new ProducerRecord<>(topic, TopicLayout.partitionFor(volume, PARTITIONS), key, value));
        }

        void region(String v, String n, long era, long r, long firstWrite) {
            send(v, DirtyKey.region(v, n, era, r).bytes(),
                    Codecs.DIRTY_REGION.encode(new DirtyRegion(firstWrite, 65536, SIZE, DirtyCause.LOGGED_WRITE)));
        }

        void tombstone(String v, String n, long era, long r) {
            send(v, DirtyKey.region(v, n, era, r).bytes(), null);
        }

        void marker(String v, String n, long era, long count) {
            send(v, DirtyKey.eraClosed(v, n, era).bytes(), Codecs.ERA_CLOSED.encode(new EraClosed(5000L, count)));
        }

        @Override
        public void close() {
            producer.flush();
            producer.close();
        }
    }

    static RoaringBitmap bitmap(TreeSet<Long> regions) {
        RoaringBitmap b = new RoaringBitmap();
        regions.forEach(r -> b.add(r.intValue()));
        return b;
    }

    @Test
    void rebuildOfRecordsDuplicatesTombstonesMarkersAndPoisonGivesTheLiveSets(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "rebuild.");
        String[] volumes = {"vol-a", "vol-b", "vol-c"};
        Map<String, TreeSet<Long>> model = new java.util.HashMap<>(); // "volume/era" -> live regions
        Random random = new Random(42);
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            for (int i = 0; i < 3000; i++) {
                String v = volumes[random.nextInt(volumes.length)];
                long era = random.nextInt(3);
                long r = random.nextInt(500);
                TreeSet<Long> live = model.computeIfAbsent(v + "/" + era, k -> new TreeSet<>());
                int op = random.nextInt(10);
                if (op < 6) {
                    feed.region(v, "site-a", era, r, 1000 + i); // duplicates happen: 500 regions
                    live.add(r);
                } else if (op < 9) {
                    feed.tombstone(v, "site-a", era, r);
                    live.remove(r);
                } else {
                    feed.send(v, ("garbage-" + i).getBytes(StandardCharsets.UTF_8), new byte[] {1, 2});
                    feed.send(v, DirtyKey.region(v, "site-a", era, r).bytes(), new byte[] {0x42}); // undecodable: skipped
                }
            }
            for (String v : volumes) {
                feed.marker(v, "site-a", 0, 1);
                feed.marker(v, "site-a", 1, 1);
            }
        }
        try (DirtyTopicReader reader = new DirtyTopicReader(client(kafka), layout.dirty())) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(60));
            DirtySetIndex index = reader.index();
            assertThat(index.volumes()).containsExactly(volumes);
            assertThat(index.poisonRecords()).isPositive();
            for (String v : volumes) {
                for (long era = 0; era < 3; era++) {
                    TreeSet<Long> expected = model.getOrDefault(v + "/" + era, new TreeSet<>());
                    assertThat(index.liveRegions(v, "site-a", era)).as(v + " era " + era).isEqualTo(bitmap(expected));
                }
                assertThat(index.highestClosedEraReady(v, "site-a")).hasValue(1);
                TreeSet<Long> through = new TreeSet<>(model.getOrDefault(v + "/0", new TreeSet<>()));
                through.addAll(model.getOrDefault(v + "/1", new TreeSet<>()));
                assertThat(index.liveRegionsThrough(v, "site-a", 1)).isEqualTo(bitmap(through));
            }
        }
    }

    @Test
    void interleavedErasBecomeReadyOnlyWhenEveryLowerEraIsClosed(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "interleave.");
        try (Feed feed = new Feed(kafka, layout.dirty());
                DirtyTopicReader reader = new DirtyTopicReader(client(kafka), layout.dirty())) {
            int partition = TopicLayout.partitionFor("vol", PARTITIONS);
            reader.rebuild(List.of(partition), Duration.ofSeconds(30));
            feed.region("vol", "a", 7, 1, 1);
            feed.region("vol", "a", 8, 2, 2);
            feed.region("vol", "a", 7, 3, 3);
            feed.marker("vol", "a", 8, 1); // 8 closes before 7's backlog is out
            feed.producer.flush();
            DirtySetIndex index = reader.index();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                reader.poll(Duration.ofMillis(100));
                return index.closedEras("vol", "a").size() == 1;
            });
            assertThat(index.highestClosedEraReady("vol", "a")).isEmpty();
            feed.region("vol", "a", 9, 4, 4);
            feed.region("vol", "a", 7, 5, 5);
            feed.marker("vol", "a", 7, 3);
            feed.producer.flush();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                reader.poll(Duration.ofMillis(100));
                return index.highestClosedEraReady("vol", "a").isPresent();
            });
            assertThat(index.highestClosedEraReady("vol", "a")).hasValue(8);
            assertThat(index.liveRegionsThrough("vol", "a", 8)).isEqualTo(RoaringBitmap.bitmapOf(1, 2, 3, 5));
        }
    }

    @Test
    void tombstonesFromTheTombstonerAreSeenByAFreshRebuild(KafkaBroker kafka) throws Exception {
        TopicLayout layout = topics(kafka, "tomb.");
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            for (long r = 0; r < 100; r++) {
                feed.region("vol", "a", 1, r, r);
            }
            feed.marker("vol", "a", 1, 100);
            feed.region("vol", "a", 2, 7, 200);
        }
        try (Tombstoner tombstoner = new Tombstoner(client(kafka), layout, Duration.ofSeconds(10))) {
            RoaringBitmap done = new RoaringBitmap();
            done.add(0L, 60L);
            assertThat(tombstoner.tombstoneRegions("vol", "a", 1, done).get(30, TimeUnit.SECONDS)).isEqualTo(60);
        }
        try (DirtyTopicReader reader = new DirtyTopicReader(client(kafka), layout.dirty())) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            RoaringBitmap left = new RoaringBitmap();
            left.add(60L, 100L);
            assertThat(reader.index().liveRegions("vol", "a", 1)).isEqualTo(left);
            assertThat(reader.index().highestClosedEraReady("vol", "a")).hasValue(1);
        }
        try (Tombstoner tombstoner = new Tombstoner(client(kafka), layout, Duration.ofSeconds(10))) {
            RoaringBitmap rest = new RoaringBitmap();
            rest.add(60L, 100L);
            tombstoner.tombstoneRegions("vol", "a", 1, rest);
            tombstoner.tombstoneMarker("vol", "a", 1).get(30, TimeUnit.SECONDS);
        }
        try (DirtyTopicReader reader = new DirtyTopicReader(client(kafka), layout.dirty())) {
            reader.rebuild(List.of(TopicLayout.partitionFor("vol", PARTITIONS)), Duration.ofSeconds(30));
            assertThat(reader.index().eras("vol", "a")).containsExactly(2L);
            assertThat(reader.index().highestClosedEraReady("vol", "a")).isEmpty();
        }
    }

    @Test
    void replayEventsArePublishedKeyedByVolume(KafkaBroker kafka) throws Exception {
        TopicLayout layout = topics(kafka, "events.");
        try (ReplayEvents events = new ReplayEvents(client(kafka), layout, "replayer-1", Clock.systemUTC())) {
            events.started("vol", 3, new ReplayEvents.Progress(0, 1 << 20, 0, 0)).get(30, TimeUnit.SECONDS);
            events.progress("vol", 3, new ReplayEvents.Progress(1 << 19, 1 << 20, 2, 4096.4)).get(30, TimeUnit.SECONDS);
            events.finished("vol", 3, new ReplayEvents.Progress(1 << 20, 1 << 20, 2, 8192)).get(30, TimeUnit.SECONDS);
        }
        List<VolumeEvent> read = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Clients.consumer(client(kafka), "test", null))) {
            TopicPartition tp = new TopicPartition(layout.events(), TopicLayout.partitionFor("vol", PARTITIONS));
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("vol");
                    read.add(Codecs.VOLUME_EVENT.decode(r.value()));
                }
                return read.size() == 3;
            });
        }
        assertThat(read).extracting(VolumeEvent::getType)
                .containsExactly(EventType.REPLAY_STARTED, EventType.REPLAY_PROGRESS, EventType.REPLAY_FINISHED);
        assertThat(read.get(1).getDetail()).containsEntry("bytesDone", "524288").containsEntry("regionsSkipped", "2")
                .containsEntry("bytesPerSecond", "4096");
        assertThat(read.get(1).getEra()).isEqualTo(3L);
        assertThat(read.get(1).getNode()).isEqualTo("replayer-1");
    }
}
