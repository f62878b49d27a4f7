package io.blockrep.producer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.Tmpfs;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the fault campaign (FaultCampaignIT, fault PRIMARY_STATE_FULL, issue #12): a state directory
 * that is full when the publisher first records the dirty topic's partition count
 * ({@code kafka-partitions.properties}) stopped the dirty publisher for good ("Kafka publishing
 * stopped: cannot write ... No space left on device") while the facility ran on, so no dirty record
 * of any later outage reached Kafka and no replayer could ever resynchronise it. A full disk is
 * transient: the publisher must retry (its restart with backoff) and publish once there is room.
 * A real 1 MiB tmpfs as the state directory, filled with a preallocated file, then freed.
 */
@ExtendWith(KafkaBrokerExtension.class)
class FullStateDirPublisherIT {
    @TempDir
    Path dir;

    @Test
    void aFullStateDirWhenThePartitionCountIsFirstRecordedDelaysPublishingInsteadOfStoppingIt(KafkaBroker kafka) {
        try (Tmpfs state = Tmpfs.mount(dir.resolve("state"), 1L << 20)) {
            state.fill();
            PublisherConfig config = PublisherConfig.defaults(kafka.bootstrapServers(), "site-a", state.path())
                    .withTopics(new TopicLayout("full."), 3)
                    .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(4));
            List<String> failures = new CopyOnWriteArrayList<>();
            MemorySource vol = new MemorySource("vol-f");
            vol.mark(1, 5);
            try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), (error, fatal) -> failures.add((fatal ? "fatal: " : "retried: ") + error.getMessage()))) {
                p.register(vol);
                await().atMost(Duration.ofSeconds(30)).alias("the guard file meets ENOSPC")
                        .until(() -> failures.stream().anyMatch(f -> f.contains(PartitionCountGuard.FILE)));
                state.unfill();
                await().atMost(Duration.ofSeconds(30)).alias("the region is published once there is room")
                        .until(() -> DirtyPublisherIT.readAll(kafka, config).size() == 1);
            }
            assertThat(failures).as("failures reported as fatal (the publisher gave up)").noneMatch(f -> f.startsWith("fatal: "));
        }
    }
}
