package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import io.blockrep.producer.publish.DirtyPublisher;
import io.blockrep.producer.publish.DirtySource;
import io.blockrep.producer.publish.PublisherConfig;
import io.blockrep.producer.publish.PublisherListener;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import io.blockrep.testkit.kafka.TopicContents;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.NavigableMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

/**
 * Regression (issue 11, seen 4): a replay report dropped an era between the publisher's listing of a volume's
 * eras and its read of that era's regions; the read threw "era … is neither open nor pending" and Kafka
 * publishing stopped until a restart. Here the drop lands in exactly that place, on a real tracker: right after
 * the publisher took the volume's eras (before the fix, its list; now its one atomic snapshot).
 */
@ExtendWith(KafkaBrokerExtension.class)
class EraDroppedDuringReconcileIT {
    private static final int R = 65_536;
    private static final VolumeMetadata META = new VolumeMetadata("v3", Path.of("/dev/null"), new RegionGeometry(64L * R, R), Role.PRIMARY);

    @TempDir
    Path dir;

    /** The facility's source, with a replay report that drops {@code era} right after the eras were taken, once armed. */
    private static final class DropAfterSnapshot implements DirtySource {
        private final TrackerSource source;
        private final AtomicBoolean armed = new AtomicBoolean();
        private final long era;

        DropAfterSnapshot(TrackerSource source, long era) {
            this.source = source;
            this.era = era;
        }

        @Override
        public String volume() {
            return source.volume();
        }

        @Override
        public long volumeSize() {
            return source.volumeSize();
        }

        @Override
        public int regionSize() {
            return source.regionSize();
        }

        @Override
        public NavigableMap<Long, RoaringBitmap> snapshot() {
            NavigableMap<Long, RoaringBitmap> eras = source.snapshot();
            if (armed.compareAndSet(true, false)) {
                source.tracker().dropEra(era);
            }
            return eras;
        }
    }

    @Test
    void anEraDroppedWhileThePublisherReadsItDoesNotStopPublishing(KafkaBroker kafka) {
        PublisherConfig config = PublisherConfig.defaults(kafka.bootstrapServers(), "site-a", dir.resolve("state"))
                .withTopics(new TopicLayout("drop."), 3)
                .withTimeouts(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(4));
        try (DirtyTracker tracker = DirtyTracker.open(dir.resolve("v3"), META, "site-a", ExcludedRanges.NONE)) {
            tracker.markWrite(0, 4L * R).toCompletableFuture().join(); // era 1: regions 0..3
            long closed = tracker.closeEra();
            tracker.markWrite(10L * R, 1).toCompletableFuture().join(); // era 2: region 10
            DropAfterSnapshot source = new DropAfterSnapshot(new TrackerSource("v3", META.size(), R, tracker), closed);
            try (DirtyPublisher p = DirtyPublisher.start(config, Clock.systemUTC(), PublisherListener.NONE)) {
                p.register(source);
                await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().recordsAcked() == 5);

                source.armed.set(true); // the replayer copied era 1; its report lands in the next reconcile
                await().atMost(Duration.ofSeconds(10)).until(() -> !source.armed.get());
                tracker.markWrite(11L * R, 1).toCompletableFuture().join(); // later writes must still reach Kafka
                await().atMost(Duration.ofSeconds(30)).until(() -> p.stats().fatal() || p.stats().recordsAcked() == 6);
                assertThat(p.stats().fatal()).as("publisher stopped: %s", p.stats().lastError()).isFalse();
                assertThat(p.stats().restarts().count()).as("the loop never threw: the dropped era was not read").isZero();
                assertThat(p.stats().backlogRegions()).isZero();
            }
        }
        List<DirtyKey> keys = TopicContents.readAll(kafka.bootstrapServers(), config.topics().dirty()).stream()
                .map(r -> DirtyKey.parse(r.key())).toList();
        assertThat(keys).contains(DirtyKey.region("v3", "site-a", 2, 10), DirtyKey.region("v3", "site-a", 2, 11));
    }
}
