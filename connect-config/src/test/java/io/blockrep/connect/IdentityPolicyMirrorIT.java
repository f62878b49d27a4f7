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
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.connect.mirror.IdentityReplicationPolicy;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.junit.jupiter.api.Test;

/**
 * The alternative mm2.properties documents: the identity replication policy, one direction only (active/passive).
 * Site-a's records land in site-b's own {@code blockrep.dirty}, beside site-b's, and the node in the key keeps
 * them apart: a mirrored tombstone of site-a's key leaves site-b's key of the same volume, era and region live.
 * About 22 s (two brokers, MirrorMaker start and stop), so not tagged slow.
 */
class IdentityPolicyMirrorIT {
    private static final Duration MIRRORED = Duration.ofSeconds(60);
    private static final int PARTITIONS = 2;
    private static final TopicLayout LAYOUT = TopicLayout.defaults();

    @Test
    void siteARecordsLandInSiteBsOwnDirtyTopicAndOnlyTheirKeysAreTombstoned() throws Exception {
        try (TwoSiteKafka kafka = TwoSiteKafka.start()) {
            for (String site : kafka.sites()) {
                MirrorRecords.createTopics(kafka.admin(site), LAYOUT, PARTITIONS);
            }
            // the two changes mm2.properties names for this mode
            try (MirrorMaker mirror = MirrorMaker.fromRepository()
                    .bootstrapServers("site-a", kafka.bootstrapServers("site-a"))
                    .bootstrapServers("site-b", kafka.bootstrapServers("site-b"))
                    .override("replication.policy.class", IdentityReplicationPolicy.class.getName())
                    .override("site-b->site-a.enabled", "false")
                    .start();
                    KafkaProducer<byte[], byte[]> onA = MirrorRecords.producer(kafka.bootstrapServers("site-a"));
                    KafkaProducer<byte[], byte[]> onB = MirrorRecords.producer(kafka.bootstrapServers("site-b"))) {
                // a disabled flow still runs its heartbeat connector (emit.heartbeats.enabled is global); no data flows
                assertThat(mirror.flows()).contains(new SourceAndTarget("site-a", "site-b"));

                Map<DirtyKey, DirtyRegion> fromA = publish(onA, LAYOUT.dirty(), PARTITIONS, "vol-1", "site-a", 4, List.of(1L, 2L));
                Map<DirtyKey, DirtyRegion> fromB = publish(onB, LAYOUT.dirty(), PARTITIONS, "vol-1", "site-b", 4, List.of(1L, 2L));
                Map<DirtyKey, DirtyRegion> both = new HashMap<>(fromA);
                both.putAll(fromB);
                await("site-a's records in site-b's own dirty topic").atMost(MIRRORED).ignoreExceptions()
                        .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-b"), LAYOUT.dirty())), l -> l.equals(both));
                assertThat(kafka.admin("site-b").listTopics().names().get()).doesNotContain("site-a." + LAYOUT.dirty());
                assertThat(topicConfig(kafka.admin("site-b"), LAYOUT.dirty(), TopicConfig.CLEANUP_POLICY_CONFIG))
                        .isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);

                DirtyKey replayed = DirtyKey.region("vol-1", "site-a", 4, 1);
                MirrorRecords.tombstone(onA, LAYOUT.dirty(), PARTITIONS, replayed);
                Map<DirtyKey, DirtyRegion> expected = new HashMap<>(both);
                expected.remove(replayed);
                await("site-a's tombstone on site-b").atMost(MIRRORED).ignoreExceptions()
                        .until(() -> live(TopicContents.readAll(kafka.bootstrapServers("site-b"), LAYOUT.dirty())), l -> l.equals(expected));
                assertThat(live(TopicContents.readAll(kafka.bootstrapServers("site-b"), LAYOUT.dirty())))
                        .containsKey(DirtyKey.region("vol-1", "site-b", 4, 1));
                // one direction only: site-b's records never reach site-a
                assertThat(live(TopicContents.readAll(kafka.bootstrapServers("site-a"), LAYOUT.dirty())).keySet())
                        .allSatisfy(k -> assertThat(k.node()).isEqualTo("site-a"));
            }
        }
    }
}
