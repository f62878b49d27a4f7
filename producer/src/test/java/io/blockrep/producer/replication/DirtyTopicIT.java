package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.EmbeddedKafkaOnly;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import io.blockrep.testkit.kafka.TopicContents;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

/** The dirty topic against a real broker, fed by two real facilities and a real NBD client. */
@ExtendWith(KafkaBrokerExtension.class)
@EmbeddedKafkaOnly("stops and starts the broker (writes go on while Kafka is down)")
class DirtyTopicIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    private static void write(String uri, List<long[]> writes) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        int pattern = 1;
        for (long[] w : writes) {
            cmd.add("-c");
            cmd.add("write -P " + (pattern++ % 255) + " " + w[0] + " " + w[1]);
        }
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    private static List<long[]> writes(TreeSet<Long> expected, long seed, int count) {
        java.util.Random random = new java.util.Random(seed);
        List<long[]> writes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long offset = (long) random.nextInt((int) (SIZE / 4096) - 64) * 4096;
            long length = 4096L * (1 + random.nextInt(40));
            writes.add(new long[] {offset, length});
            for (long r = offset >> 16; r <= (offset + length - 1) >> 16; r++) {
                expected.add(r);
            }
        }
        return writes;
    }

    /** Every record of the dirty topic for (volume, node, era), in partition order. */
    private static List<ConsumerRecord<byte[], byte[]>> dirtyRecords(KafkaBroker kafka, String volume, String node, long era) {
        return TopicContents.readAll(kafka.bootstrapServers(), "blockrep.dirty").stream().filter(r -> {
            DirtyKey key = DirtyKey.parse(r.key());
            return key.volume().equals(volume) && key.node().equals(node) && key.era() == era && !key.isEraClosed();
        }).toList();
    }

    /** Every event of {@code volume} on the events topic, in order. */
    private static List<io.blockrep.schemas.VolumeEvent> events(KafkaBroker kafka, String volume) {
        return TopicContents.readAll(kafka.bootstrapServers(), "blockrep.events").stream()
                .filter(r -> volume.equals(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8)))
                .map(r -> Codecs.VOLUME_EVENT.decode(r.value())).toList();
    }

    private static List<Long> regionsOf(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> DirtyKey.parse(r.key()).region()).sorted().toList();
    }

    @Test
    void exactlyOneRecordPerDistinctWrittenRegionAndTheBitmapAgrees(KafkaBroker kafka) {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            TreeSet<Long> expected = new TreeSet<>();
            List<long[]> writes = writes(expected, 3, 60);
            write(sites.primaryUri(), writes);
            write(sites.primaryUri(), writes); // every region again: no new records

            long era = sites.primary().era();
            await().atMost(Duration.ofSeconds(30)).until(() -> dirtyRecords(kafka, "vol", "site-a", era).size() >= expected.size());
            List<ConsumerRecord<byte[], byte[]>> records = dirtyRecords(kafka, "vol", "site-a", era);
            assertThat(regionsOf(records)).as("one record per distinct region").containsExactlyElementsOf(expected);
            int partition = io.blockrep.schemas.topic.TopicLayout.partitionFor("vol", 3);
            assertThat(records).allSatisfy(r -> assertThat(r.partition()).isEqualTo(partition));
            DirtyRegion value = Codecs.DIRTY_REGION.decode(records.get(0).value());
            assertThat(value.getRegionSize()).isEqualTo(65536);
            assertThat(value.getCause()).isEqualTo(DirtyCause.LOGGED_WRITE);

            await().atMost(Duration.ofSeconds(30)).until(() -> events(kafka, "vol").stream().anyMatch(e ->
                    e.getType() == io.blockrep.schemas.EventType.MODE_CHANGED && "LOGGING".equals(e.getMode())
                            && "site-a".equals(e.getNode())));
            assertThat(events(kafka, "vol")).anyMatch(e -> e.getType() == io.blockrep.schemas.EventType.LINK_DOWN);

            RoaringBitmap bitmap = sites.primary().tracker().dirtyRegions(era);
            List<Long> bits = new ArrayList<>();
            bitmap.forEach((int r) -> bits.add((long) r));
            assertThat(bits).as("the local bitmap holds the same regions").containsExactlyElementsOf(expected);
        }
    }

    @Test
    void writesGoOnWhileTheBrokerIsDownAndTheBacklogIsPublishedWhenItReturns(KafkaBroker kafka) {
        try (TwoSites sites = new TwoSites(dir, "vol2", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            TreeSet<Long> expected = new TreeSet<>();
            write(sites.primaryUri(), writes(expected, 4, 10));
            long era = sites.primary().era();
            await().atMost(Duration.ofSeconds(30)).until(() -> dirtyRecords(kafka, "vol2", "site-a", era).size() >= expected.size());

            kafka.stop();
            write(sites.primaryUri(), writes(expected, 5, 30)); // succeeds with the broker down
            assertThat(sites.primary().tracker().dirtyRegions(era).getLongCardinality()).isEqualTo(expected.size());
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.siteA.status().kafka().equals("UNREACHABLE"));

            kafka.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> dirtyRecords(kafka, "vol2", "site-a", era).size() >= expected.size());
            assertThat(regionsOf(dirtyRecords(kafka, "vol2", "site-a", era))).containsExactlyElementsOf(expected);
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.siteA.status().kafkaBacklogRegions() == 0);
        }
    }
}
