package io.blockrep.replayer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue #12, seen 4 (from a code read): a replayer whose worker thread died on an unexpected exception
 * kept its process, and its partitions, alive, so no other instance ever took its volumes over. Now the
 * service leaves the group when its worker fails, reports the failure (the command exits non-zero),
 * and a second instance takes the volume over.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ReplayerWorkerFailureIT {
    private static final int PARTITIONS = 2;

    private static Properties config(KafkaBroker kafka, String id) {
        Properties p = new Properties();
        p.setProperty("replayer.id", id);
        p.setProperty("replayer.kafka.bootstrap.servers", kafka.bootstrapServers());
        p.setProperty("replayer.topic.prefix", "failing.");
        p.setProperty("replayer.group.id", "failing-group");
        p.setProperty("replayer.link.secret", "test-secret-0123456789");
        p.setProperty("replayer.nodes", "site-a,site-b");
        p.setProperty("replayer.node.site-a.link", "127.0.0.1:9");
        p.setProperty("replayer.node.site-a.control", "127.0.0.1:9");
        p.setProperty("replayer.node.site-b.link", "127.0.0.1:9");
        p.setProperty("replayer.node.site-b.control", "127.0.0.1:9");
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a,site-b");
        return p;
    }

    @Test
    void aReplayerWhoseWorkerDiedLeavesTheGroupAndAnotherTakesItsVolumeOver(KafkaBroker kafka) throws Exception {
        TopicLayout layout = new TopicLayout("failing.");
        layout.topicConfigs().forEach((name, configs) -> kafka.createTopic(name, PARTITIONS, configs));
        Properties pp = new Properties();
        pp.setProperty("bootstrap.servers", kafka.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(layout.dirty(), TopicLayout.partitionFor("vol", PARTITIONS), DirtyKey.region("vol", "site-a", 1, 3).bytes(),
                    Codecs.DIRTY_REGION.encode(new DirtyRegion(1000L, 65536, 64L << 20, DirtyCause.LOGGED_WRITE)))).get();
        }
        AtomicInteger steps = new AtomicInteger();
        ReplayerService.Stepper crashing = (index, v) -> {
            throw new NullPointerException("a bug in the worker (injected)");
        };
        ReplayerService.Stepper counting = (index, v) -> {
            steps.incrementAndGet();
            return null;
        };
        try (ReplayerService first = ReplayerService.start(ReplayerConfig.from(config(kafka, "r1"), Map.of()), crashing)) {
            Throwable failure = first.failed().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(failure).hasMessageContaining("injected");
            assertThat(first.ownedVolumes()).as("it left the group").isEmpty();
            try (ReplayerService second = ReplayerService.start(ReplayerConfig.from(config(kafka, "r2"), Map.of()), counting)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> second.ownedVolumes().contains("vol") && steps.get() > 0);
            }
        }
    }
}
