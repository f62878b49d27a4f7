package io.blockrep.replayer.index;

import static io.blockrep.replayer.index.DirtyTopicReaderIT.PARTITIONS;
import static io.blockrep.replayer.index.DirtyTopicReaderIT.client;
import static io.blockrep.replayer.index.DirtyTopicReaderIT.topics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.replayer.index.DirtyTopicReaderIT.Feed;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.roaringbitmap.RoaringBitmap;

/** The group member against a real broker: partition split, takeover, and lag as the backlog. */
@ExtendWith(KafkaBrokerExtension.class)
class DirtyTopicFollowerIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static final class Recorder implements DirtyTopicFollower.OwnershipListener {
        final ConcurrentLinkedQueue<String> assigned = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> revoked = new ConcurrentLinkedQueue<>();

        @Override
        public void volumesAssigned(Set<String> volumes) {
            assigned.addAll(volumes);
        }

        @Override
        public void volumesRevoked(Set<String> volumes) {
            revoked.addAll(volumes);
        }
    }

    /** Committed offset minus end offset, per partition, as kafka-consumer-groups computes it. */
    private static long lag(Admin admin, String group, TopicPartition tp) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get(10, TimeUnit.SECONDS).offset();
        OffsetAndMetadata c = committed.get(tp);
        return c == null ? -1 : end - c.offset();
    }

    @Test
    void twoMembersSplitThePartitionsAndTheSurvivorTakesOverTheVolumesOfAClosedOne(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "split.");
        List<String> volumes = IntStream.range(0, 12).mapToObj(i -> "vol-" + i).toList();
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            for (String v : volumes) {
                for (long r = 0; r < 20; r++) {
                    feed.region(v, "a", 1, r, 100);
                }
                feed.tombstone(v, "a", 1, 0);
            }
        }
        Set<Integer> usedPartitions = volumes.stream().map(v -> TopicLayout.partitionFor(v, PARTITIONS)).collect(Collectors.toSet());
        assertThat(usedPartitions).as("the test needs volumes in every partition").hasSize(PARTITIONS);
        RoaringBitmap expected = new RoaringBitmap();
        expected.add(1L, 20L);

        Recorder first = new Recorder();
        Recorder second = new Recorder();
        try (DirtyTopicFollower one = DirtyTopicFollower.start(client(kafka), "split-group", layout.dirty(), first)) {
            try (DirtyTopicFollower two = DirtyTopicFollower.start(client(kafka), "split-group", layout.dirty(), second)) {
                await().atMost(WAIT).until(() -> one.rebuilt() && two.rebuilt()
                        && one.assignment().size() + two.assignment().size() == PARTITIONS);
                assertThat(one.assignment()).isNotEmpty().doesNotContainAnyElementsOf(two.assignment());
                Set<String> all = new TreeSet<>(one.ownedVolumes());
                all.addAll(two.ownedVolumes());
                assertThat(all).containsExactlyInAnyOrderElementsOf(volumes);
                assertThat(one.ownedVolumes()).doesNotContainAnyElementsOf(two.ownedVolumes());
                assertThat(one.index().volumes()).isEqualTo(one.ownedVolumes());
                for (String v : two.ownedVolumes()) {
                    assertThat(two.index().liveRegions(v, "a", 1)).isEqualTo(expected);
                }
                assertThat(one.failure()).isEmpty();
                assertThat(two.failure()).isEmpty();
            }
            await().atMost(WAIT).until(() -> one.rebuilt() && one.assignment().size() == PARTITIONS);
            assertThat(one.ownedVolumes()).containsExactlyInAnyOrderElementsOf(volumes);
            for (String v : volumes) {
                assertThat(one.index().liveRegions(v, "a", 1)).as(v).isEqualTo(expected);
            }
            assertThat(new HashSet<>(first.assigned)).containsExactlyInAnyOrderElementsOf(volumes);
            assertThat(new HashSet<>(second.assigned)).isNotEmpty();
        }
    }

    @Test
    void committedOffsetsShowTheBacklogUntilEveryRegionIsTombstoned(KafkaBroker kafka) throws Exception {
        TopicLayout layout = topics(kafka, "lag.");
        TopicPartition tp = new TopicPartition(layout.dirty(), TopicLayout.partitionFor("vol", PARTITIONS));
        int n = 50;
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            for (long r = 0; r < n; r++) {
                feed.region("vol", "a", 4, r, 100);
            }
        }
        try (DirtyTopicFollower follower = DirtyTopicFollower.start(client(kafka), "lag-group", layout.dirty(), new Recorder())) {
            await().atMost(WAIT).until(() -> follower.ownedVolumes().contains("vol"));
            await().atMost(WAIT).until(() -> lag(kafka.admin(), "lag-group", tp) == n);
            RoaringBitmap all = new RoaringBitmap();
            all.add(0L, n);
            try (Tombstoner tombstoner = new Tombstoner(client(kafka), layout, Duration.ofSeconds(10))) {
                RoaringBitmap half = new RoaringBitmap();
                half.add(0L, n / 2);
                tombstoner.tombstoneRegions("vol", "a", 4, half).get(30, TimeUnit.SECONDS);
                // the oldest pending record is now region n/2, at offset n/2; the end moved by n/2 tombstones
                await().atMost(WAIT).until(() -> lag(kafka.admin(), "lag-group", tp) == n);
                await().atMost(WAIT).until(() -> follower.index().liveCount("vol", "a", 4) == n / 2);
                tombstoner.tombstoneRegions("vol", "a", 4, all).get(30, TimeUnit.SECONDS);
            }
            await().atMost(WAIT).until(() -> lag(kafka.admin(), "lag-group", tp) == 0);
            assertThat(follower.index().liveCount("vol")).isZero();
            assertThat(follower.failure()).isEmpty();
        }
        assertThat(lag(kafka.admin(), "lag-group", tp)).as("the last commit on close").isZero();
    }

    @Test
    void theOwnerOfAVolumeIsNamedByItsReplayerIdNotByAGenericClientId(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "owner.");
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            feed.region("vol", "a", 1, 0, 100);
        }
        try (DirtyTopicFollower follower = DirtyTopicFollower.start(client(kafka), "owner-group", "r-east-1", layout.dirty(),
                new Recorder())) {
            await().atMost(WAIT).until(() -> follower.ownedVolumes().contains("vol"));
            await().atMost(WAIT).until(() -> ReplayerGroup.ownerOf(client(kafka), "owner-group", layout.dirty(), "vol",
                    Duration.ofSeconds(10)).isPresent());
            assertThat(ReplayerGroup.ownerOf(client(kafka), "owner-group", layout.dirty(), "vol", Duration.ofSeconds(10)))
                    .hasValueSatisfying(owner -> assertThat(owner).startsWith("r-east-1 (").doesNotContain("blockrep-dirty-follower"));
        }
    }

    /**
     * Issue #12, deliver 2: an Error on the follower's thread (here from the ownership listener) ended the
     * thread without recording a failure, so the replayer service never learned its consumer was gone and
     * the process lived on holding its partitions. Now the failure is recorded (the service leaves the
     * group and the command exits non-zero) and the member left the group.
     */
    @Test
    void anErrorOnTheFollowersThreadIsRecordedAsItsFailure(KafkaBroker kafka) {
        TopicLayout layout = topics(kafka, "error.");
        try (Feed feed = new Feed(kafka, layout.dirty())) {
            feed.region("vol-1", "a", 1, 0, 100);
        }
        DirtyTopicFollower.OwnershipListener failing = new DirtyTopicFollower.OwnershipListener() {
            @Override
            public void volumesAssigned(Set<String> volumes) {
                throw new AssertionError("a bug in the listener (injected)");
            }

            @Override
            public void volumesRevoked(Set<String> volumes) {
            }
        };
        try (DirtyTopicFollower f = DirtyTopicFollower.start(client(kafka), "error-group", layout.dirty(), failing)) {
            await().atMost(WAIT).until(() -> f.failure().isPresent());
            assertThat(f.failure().get()).hasMessageContaining("injected");
        }
    }
}
