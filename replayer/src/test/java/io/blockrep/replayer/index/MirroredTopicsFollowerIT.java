package io.blockrep.replayer.index;

import static io.blockrep.replayer.index.DirtyTopicReaderIT.PARTITIONS;
import static io.blockrep.replayer.index.DirtyTopicReaderIT.client;
import static io.blockrep.replayer.index.DirtyTopicReaderIT.topics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.FatalException;
import io.blockrep.replayer.index.DirtyTopicReaderIT.Feed;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.roaringbitmap.RoaringBitmap;

/**
 * The service's follower with a mirrored peer topic beside the local one, on one real broker (the mirrored topic is
 * written here by the test, as MirrorMaker would write it; the two-cluster run is cli's TwoClusterMirrorIT).
 */
@ExtendWith(KafkaBrokerExtension.class)
class MirroredTopicsFollowerIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final DirtyTopicFollower.OwnershipListener QUIET = new DirtyTopicFollower.OwnershipListener() {
        @Override
        public void volumesAssigned(Set<String> volumes) {
        }

        @Override
        public void volumesRevoked(Set<String> volumes) {
        }
    };

    @Test
    void theFollowerMergesTheMirroredTopicAndKeepsFollowingIt(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "mf.");
        SourceTopics source = new SourceTopics(layout, List.of("site-a"), ".");
        String mirrored = source.mirroredDirty().get(0);
        kafka.createTopic(mirrored, PARTITIONS, layout.topicConfigs().get(layout.dirty()));
        try (Feed local = new Feed(kafka, layout.dirty()); Feed mirror = new Feed(kafka, mirrored)) {
            local.tombstone("vol", "site-a", 3, 7); // this cluster's replayer copied region 7 already
            mirror.region("vol", "site-a", 3, 7, 100);
            mirror.region("vol", "site-a", 3, 8, 100);
            mirror.marker("vol", "site-a", 3, 2);
        }
        try (DirtyTopicFollower follower = DirtyTopicFollower.start(client(kafka), "mirror-group", "r-b", source, QUIET)) {
            await().atMost(WAIT).until(follower::rebuilt);
            DirtySetIndex index = follower.index();
            assertThat(index.liveRegions("vol", "site-a", 3)).isEqualTo(RoaringBitmap.bitmapOf(8));
            assertThat(index.highestClosedEraReady("vol", "site-a")).isEqualTo(OptionalLong.of(3));
            assertThat(follower.ownedVolumes()).containsExactly("vol");
            try (Feed local = new Feed(kafka, layout.dirty()); Feed mirror = new Feed(kafka, mirrored)) {
                mirror.region("vol", "site-a", 4, 1, 200);
                local.tombstone("vol", "site-a", 3, 8);
            }
            await().atMost(WAIT).until(() -> index.liveRegions("vol", "site-a", 4).contains(1)
                    && index.liveRegions("vol", "site-a", 3).isEmpty());
            assertThat(follower.failure()).isEmpty();
        }
    }

    @Test
    void aMirroredTopicWithAnotherPartitionCountStopsTheFollower(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "mfbad.");
        SourceTopics source = new SourceTopics(layout, List.of("site-a"), ".");
        kafka.createTopic(source.mirroredDirty().get(0), PARTITIONS + 1, layout.topicConfigs().get(layout.dirty()));
        try (DirtyTopicFollower follower = DirtyTopicFollower.start(client(kafka), "mirror-bad-group", "r-b", source, QUIET)) {
            await().atMost(WAIT).until(() -> follower.failure().isPresent());
            Throwable failure = follower.failure().get();
            while (!(failure instanceof FatalException) && failure.getCause() != null) {
                failure = failure.getCause();
            }
            assertThat(failure).isInstanceOf(FatalException.class).hasMessageContaining("mfbad.dirty")
                    .hasMessageContaining((PARTITIONS + 1) + " partitions");
        }
    }
}
