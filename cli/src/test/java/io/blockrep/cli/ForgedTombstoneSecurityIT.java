package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13, seen 7: "Tombstones in Kafka are trusted blindly". Hand-written tombstones for live dirty
 * keys made the resync skip those regions, and the facility then reported REPLICATING, dirty 0, while
 * the copies differed. A forged tombstone may now delay the resync by a round, never lose a region:
 * the facility refuses a replay report that does not cover its own bitmap and publishes the missing
 * records again.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ForgedTombstoneSecurityIT {
    private static final long SIZE = 64L << 20;
    private static final int REGION = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void tombstonesWrittenBySomeoneElseNeverLoseARegion(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            long[] regions = {7, 100, 333, 900};
            for (long r : regions) {
                ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x5a " + r * REGION + " " + REGION));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == regions.length);
            long era = sites.primary().era();

            // Someone tombstones the dirty records of all four regions (kcat -P ... -Z, as seen).
            Properties p = new Properties();
            p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            int partition = TopicLayout.partitionFor("vol", 3); // TwoSites creates the topics with 3 partitions
            try (KafkaProducer<byte[], byte[]> forger = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (long r : regions) {
                    forger.send(new ProducerRecord<>("blockrep.dirty", partition, DirtyKey.region("vol", "site-a", era, r).bytes(), null));
                }
                forger.flush();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
            assertThat(sites.primary().dirtyRegions()).as("the facility's own record is untouched").isEqualTo(regions.length);

            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(ResyncIT.replayerProps(kafka, sites, "r1"), Map.of()))) {
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(sites.secondaryFile())).as("every region the facility logged reached the replica")
                    .isEqualTo(Checksums.sha256(sites.primaryFile()));
            assertThat(sites.primary().dirtyRegions()).isZero();
        }
    }
}
