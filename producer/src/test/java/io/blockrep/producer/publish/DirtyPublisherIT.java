package io.blockrep.producer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.FatalException;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicAdmin;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.EmbeddedKafkaOnly;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import io.blockrep.testkit.kafka.TopicContents;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The dirty publisher against a real broker. Each test uses its own topic prefix, so tests do not see each other's records. */
@ExtendWith(KafkaBrokerExtension.class)
@EmbeddedKafkaOnly("stops and starts the broker (the backlog while Kafka is down)")
class DirtyPublisherIT {
    private static final int PARTITIONS = 3;
    private static final String NODE = "site-a";

    @TempDir
    Path stateDir;

    private PublisherConfig config(KafkaBroker kafka, String prefix) {
        return PublisherConfig.defaults(kafka.bootstrapServers(), NODE, stateDir)
                .withTopics(new TopicLayout(prefix), PARTITIONS)
                .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(4));
    }

    @Test
    void duplicateHintsGiveExactlyOneRecordPerRegionThenTheMarker(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "dup.");
        MemorySource vol = new MemorySource("vol-a");
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            // Every hint arrives before any reconcile reads the bitmap, so every record must carry its hint.
            vol.whileLocked(() -> {
                for (int round = 0; round < 5; round++) {
                    for (int r = 0; r < 100; r++) {
                        vol.mark(7, r);
                        p.firstTouch("vol-a", 7, r, 1_000 + r, DirtyCause.LOGGED_WRITE);
                    }
                }
            });
            p.eraClosed("vol-a", 7, 100);
            await().atMost(Duration.ofSeconds(30)).until(() -> readAll(kafka, config).size() == 101);
            assertThat(p.stats().backlogRegions()).isZero();
        }
        List<ConsumerRecord<byte[], byte[]>> records = readAll(kafka, config);
        int partition = TopicLayout.partitionFor("vol-a", PARTITIONS);
        List<Long> regions = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ConsumerRecord<byte[], byte[]> rec = records.get(i);
            DirtyKey key = DirtyKey.parse(rec.key());
            assertThat(rec.partition()).isEqualTo(partition);
            assertThat(key.volume()).isEqualTo("vol-a");
            assertThat(key.node()).isEqualTo(NODE);
            assertThat(key.era()).isEqualTo(7);
            DirtyRegion value = Codecs.DIRTY_REGION.decode(rec.value());
            assertThat(value.getCause()).as("cause of region %d", key.region()).isEqualTo(DirtyCause.LOGGED_WRITE);
            assertThat(value.getFirstWriteMillis()).as("first write of region %d", key.region()).isEqualTo(1_000 + key.region());
            assertThat(value.getRegionSize()).isEqualTo(65_536);
            regions.add(key.region());
        }
        assertThat(regions).doesNotHaveDuplicates().hasSize(100);
        ConsumerRecord<byte[], byte[]> last = records.get(100);
        assertThat(DirtyKey.parse(last.key())).isEqualTo(DirtyKey.eraClosed("vol-a", NODE, 7));
        assertThat(last.partition()).isEqualTo(partition);
        EraClosed marker = Codecs.ERA_CLOSED.decode(last.value());
        assertThat(marker.getRegionCount()).isEqualTo(100);
    }

    @Test
    void regionsWithoutHintsArePublishedFromTheBitmap(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "nohint.").withCapacities(1, 10);
        MemorySource vol = new MemorySource("vol-b");
        for (int r = 0; r < 50; r++) {
            vol.mark(1, r * 3);
        }
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> readAll(kafka, config).size() == 50);
        }
        assertThat(readAll(kafka, config)).extracting(r -> Codecs.DIRTY_REGION.decode(r.value()).getCause())
                .containsOnly(DirtyCause.UNKNOWN);
    }

    @Test
    void brokerDownWritesGoOnAndTheBacklogFollowsOncePerRegion(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "down.");
        MemorySource vol = new MemorySource("vol-c");
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            vol.mark(1, 0);
            p.firstTouch("vol-c", 1, 0, 1, DirtyCause.LOGGED_WRITE);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 1 && p.kafkaReachable());

            kafka.stop();
            try {
                assertThat(touchAll(p, vol, 1, 200)).isLessThan(Duration.ofSeconds(5)); // a blocking call would wait for Kafka; 5 s tolerates a loaded CI machine
                await().atMost(Duration.ofSeconds(30)).until(() -> !p.stats().kafkaReachable());
                assertThat(p.lastError()).isPresent();
                assertThat(touchAll(p, vol, 201, 300)).isLessThan(Duration.ofSeconds(5)); // a blocking call would wait for Kafka; 5 s tolerates a loaded CI machine
                // Every region touched while down is backlog, held by the bitmaps and not lost with the failed sends.
                await().atMost(Duration.ofSeconds(10)).until(() -> p.stats().backlogRegions() == 300);
                assertThat(p.stats().kafkaReachable()).isFalse();
            } finally {
                kafka.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> p.stats().kafkaReachable() && p.stats().backlogRegions() == 0);
        }
        List<Long> regions = readAll(kafka, config).stream().map(r -> DirtyKey.parse(r.key()).region()).toList();
        assertThat(regions).doesNotHaveDuplicates().hasSize(301)
                .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(0, 300).boxed().toList());
    }

    /** Regression: the publisher learnt of a stopped broker only from a failed send, so an idle one never did. */
    @Test
    void anIdlePublisherNoticesTheBrokerStoppedAndStartedAgain(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "idle.");
        MemorySource vol = new MemorySource("vol-g");
        vol.mark(1, 0);
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 1 && p.kafkaReachable());
            kafka.stop();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> !p.stats().kafkaReachable());
                assertThat(p.stats().recordsSent()).isEqualTo(1);
            } finally {
                kafka.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(p::kafkaReachable);
        }
    }

    /** Marks and hints regions {@code from..to} of era 1; returns the longest a {@code firstTouch} call took. */
    private static Duration touchAll(DirtyPublisher p, MemorySource vol, int from, int to) {
        long worstNanos = 0;
        for (int r = from; r <= to; r++) {
            vol.mark(1, r);
            long t0 = System.nanoTime();
            p.firstTouch(vol.volume(), 1, r, r, DirtyCause.LOGGED_WRITE);
            worstNanos = Math.max(worstNanos, System.nanoTime() - t0);
        }
        return Duration.ofNanos(worstNanos);
    }

    @Test
    void restartedPublisherRebuildsAndSendsNoDuplicates(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "restart.");
        MemorySource vol = new MemorySource("vol-d");
        for (int r = 0; r < 40; r++) {
            vol.mark(2, r);
        }
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 40);
        }
        // The replayer copied region 0: its tombstone must not be answered by a new record.
        produce(kafka, config, DirtyKey.region("vol-d", NODE, 2, 0).bytes(), null);
        for (int r = 40; r < 45; r++) {
            vol.mark(2, r);
        }
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 5 && p.stats().backlogRegions() == 0);
        }
        List<ConsumerRecord<byte[], byte[]>> all = readAll(kafka, config);
        assertThat(all).hasSize(46);
        assertThat(all.stream().filter(r -> r.value() != null).map(r -> DirtyKey.parse(r.key()).region()).toList())
                .doesNotHaveDuplicates().hasSize(45);
    }

    @Test
    void poisonRecordsAreSkippedDuringTheRebuild(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "poison.");
        // Right after creation the broker may not know the topics yet: ensureTopics reports that as retriable.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> TopicAdmin.ensureTopics(kafka.admin(), "poison.", PARTITIONS, (short) 1) == PARTITIONS);
        int partition = TopicLayout.partitionFor("vol-e", PARTITIONS);
        produceTo(kafka, config, partition, "not a key".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
        // A good key with a bad value: the region counts as unpublished and is sent again with a good value.
        produceTo(kafka, config, partition, DirtyKey.region("vol-e", NODE, 1, 5).bytes(), new byte[] {0x42});
        produceTo(kafka, config, partition, DirtyKey.region("vol-e", NODE, 1, 6).bytes(),
                Codecs.DIRTY_REGION.encode(new DirtyRegion(1L, 65_536, 1L << 30, DirtyCause.LOGGED_WRITE)));
        MemorySource vol = new MemorySource("vol-e");
        vol.mark(1, 5);
        vol.mark(1, 6);
        vol.mark(1, 7);
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 2 && p.stats().backlogRegions() == 0);
            assertThat(p.stats().fatal()).isFalse();
        }
        List<String> keys = readAll(kafka, config).stream().map(r -> r.key() == null ? "null" : new String(r.key(), StandardCharsets.UTF_8)).toList();
        assertThat(keys).containsExactly("not a key", "vol-e/site-a/1/5", "vol-e/site-a/1/6", "vol-e/site-a/1/5", "vol-e/site-a/1/7");
    }

    /** A source whose reads fail {@code failures} times once armed, as a bug in the publisher's loop would. */
    private static final class FailingSource implements DirtySource {
        private final MemorySource bitmaps;
        private final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();

        FailingSource(MemorySource bitmaps) {
            this.bitmaps = bitmaps;
        }

        @Override
        public String volume() {
            return bitmaps.volume();
        }

        @Override
        public long volumeSize() {
            return bitmaps.volumeSize();
        }

        @Override
        public int regionSize() {
            return bitmaps.regionSize();
        }

        @Override
        public java.util.NavigableMap<Long, org.roaringbitmap.RoaringBitmap> snapshot() {
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new IllegalStateException("scripted failure of the publisher's loop");
            }
            return bitmaps.snapshot();
        }
    }

    /** Regression (issue 11, seen 4): one exception in the publisher's loop ended Kafka publishing until a process restart. */
    @Test
    void aPublisherWhoseLoopThrewRestartsAndPublishesWhatTheBitmapsHold(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "crash.");
        MemorySource bitmaps = new MemorySource("vol-h");
        FailingSource vol = new FailingSource(bitmaps);
        bitmaps.mark(1, 0);
        List<Throwable> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> restarts = new java.util.concurrent.CopyOnWriteArrayList<>();
        PublisherListener listener = new PublisherListener() {
            @Override
            public void onFailure(Throwable e, boolean isFatal) {
                told.add(e);
            }

            @Override
            public void onRestart(String component, Throwable cause, int attempt) {
                restarts.add(component + " " + attempt + " " + cause.getMessage());
            }
        };
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), listener)) {
            p.register(vol);
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 1);
            vol.failures.set(2);
            for (int r = 1; r <= 20; r++) {
                bitmaps.mark(1, r);
            }
            for (int r = 0; r < 10; r++) {
                bitmaps.mark(2, r);
            }
            // Two failed reconciles: restart attempt 1, then 2 (0.5 s, then 1 s of backoff); shown while they last.
            await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().summary()
                    .startsWith("RESTARTING (attempt 2, last error java.lang.IllegalStateException: scripted failure"));
            await().atMost(Duration.ofSeconds(60)).until(() -> p.stats().recordsAcked() == 31 && p.stats().backlogRegions() == 0);
            PublisherStats stats = p.stats();
            assertThat(stats.fatal()).isFalse();
            assertThat(stats.kafkaReachable()).isTrue();
            assertThat(stats.restarts().count()).isEqualTo(2);
            assertThat(stats.restarts().inProgress()).isFalse();
            assertThat(stats.restarts().lastCrash()).get().asString().contains("scripted failure");
            assertThat(stats.summary()).isEqualTo("REACHABLE");
        }
        assertThat(told).filteredOn(e -> e.getMessage().contains("scripted failure")).hasSize(2);
        // The facility publishes a COMPONENT_RESTARTED event for each (issue #12, deliver 2).
        assertThat(restarts).containsExactly("dirty publisher 1 scripted failure of the publisher's loop",
                "dirty publisher 2 scripted failure of the publisher's loop");
        assertThat(readAll(kafka, config).stream().map(r -> DirtyKey.parse(r.key())).toList()).doesNotHaveDuplicates().hasSize(31);
    }

    @Test
    void refusesADirtyTopicWhosePartitionCountChanged(KafkaBroker kafka) {
        PublisherConfig config = config(kafka, "guard.");
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
            p.register(new MemorySource("vol-f"));
            await().atMost(Duration.ofSeconds(30)).until(p::kafkaReachable);
        }
        kafka.admin().createPartitions(Map.of("guard.dirty", org.apache.kafka.clients.admin.NewPartitions.increaseTo(PARTITIONS + 2)))
                .all().toCompletionStage().toCompletableFuture().join();
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), (e, isFatal) -> {
            if (isFatal) {
                fatal.set(e);
            }
        })) {
            await().atMost(Duration.ofSeconds(30)).until(() -> fatal.get() != null);
            assertThat(p.stats().fatal()).isTrue();
        }
        assertThat(fatal.get()).isInstanceOf(FatalException.class)
                .hasMessageContaining("now has 5 partitions").hasMessageContaining("first saw 3").hasMessageContaining("migration");
    }

    @Test
    void refusesANonCompactedDirtyTopic(KafkaBroker kafka) {
        kafka.createTopic("deleting.dirty", 1, Map.of("cleanup.policy", "delete"));
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        try (DirtyPublisher p = DirtyPublisher.start(config(kafka, "deleting."), Clock.systemUTC(), (e, isFatal) -> {
            if (isFatal) {
                fatal.set(e);
            }
        })) {
            await().atMost(Duration.ofSeconds(30)).until(() -> fatal.get() != null);
        }
        assertThat(fatal.get()).isInstanceOf(FatalException.class).hasMessageContaining("cleanup.policy=compact");
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker kafka, PublisherConfig config) {
        return readTopic(kafka, config.topics().dirty());
    }

    static List<ConsumerRecord<byte[], byte[]>> readTopic(KafkaBroker kafka, String topic) {
        return TopicContents.readAll(kafka.bootstrapServers(), topic);
    }

    private static void produce(KafkaBroker kafka, PublisherConfig config, byte[] key, byte[] value) {
        produceTo(kafka, config, TopicLayout.partitionFor(DirtyKey.parse(key).volume(), PARTITIONS), key, value);
    }

    private static void produceTo(KafkaBroker kafka, PublisherConfig config, int partition, byte[] key, byte[] value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>(config.topics().dirty(), partition, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
