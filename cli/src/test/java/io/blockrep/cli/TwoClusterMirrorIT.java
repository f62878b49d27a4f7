package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.volume.Role;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.replayer.index.SourceTopics;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.topic.TopicAdmin;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.MirrorMaker;
import io.blockrep.testkit.kafka.TopicContents;
import io.blockrep.testkit.kafka.TwoSiteKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #15 item 3: two sites, two Kafka clusters, MirrorMaker 2 run in-JVM from {@code connect-config/mm2.properties}
 * (only the bootstrap servers overridden). Facility site-a publishes to cluster A, site-b to cluster B; the replayer
 * and {@code blockrep resolve} are attached to cluster B only and find site-a's records in {@code site-a.blockrep.dirty}
 * ({@code replayer.mirror.policy=default}). First an outage on site-a, resynced by the replayer service once the link
 * returns; then a split brain resolved from site-b in favour of site-a. Each time: the replica is byte-identical, and
 * on both clusters the merged dirty topics (local plus mirrored) hold no live key of the volume, with the tombstones
 * written on B only, and mirrored to A.
 */
@Tag("slow")
class TwoClusterMirrorIT {
    private static final long SIZE = 64L << 20;
    private static final TopicLayout LAYOUT = TopicLayout.defaults();

    @TempDir
    Path dir;

    @Test
    void aReplayerOnClusterBResyncsAndResolvesFromSiteAsMirroredRecords() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSiteKafka kafka = TwoSiteKafka.start()) {
            for (String site : kafka.sites()) {
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                        .until(() -> TopicAdmin.ensureTopics(kafka.admin(site), LAYOUT.prefix(), 3, (short) 1) == 3);
            }
            try (MirrorMaker mm = MirrorMaker.fromRepository()
                    .bootstrapServers("site-a", kafka.bootstrapServers("site-a"))
                    .bootstrapServers("site-b", kafka.bootstrapServers("site-b"))
                    .start();
                 TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers("site-a"))
                         .withSecondaryProperty("producer.kafka.bootstrap.servers", kafka.bootstrapServers("site-b"))
                         // the last era of a cutover reaches the replayer through the mirror: hold writes long enough for it
                         .withPrimaryProperty("producer.resync.cutover.hold.timeout", "10s")
                         .withSecondaryProperty("producer.resync.cutover.hold.timeout", "10s")
                         .start()) {
                outageResyncedFromClusterB(kafka, sites);
                splitBrainResolvedFromClusterB(kafka, sites);
            }
        }
    }

    private void outageResyncedFromClusterB(TwoSiteKafka kafka, TwoSites sites) {
        await().atMost(Duration.ofSeconds(30)).until(() -> sites.atA().mode() == Mode.REPLICATING);
        ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x01 0 4M", "flush"));
        sites.cutLink();
        await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);
        ResyncIT.qemuIo(sites.primaryUri(), ResyncIT.randomWrites(15, 30));
        long dirty = sites.atA().dirtyRegions();
        assertThat(dirty).isPositive();
        // site-a logged to cluster A only; the mirror brings its dirty set to cluster B
        await().atMost(Duration.ofSeconds(30)).until(() -> liveKeys(kafka, "site-b", List.of(mirrored("site-a")), "site-a") == dirty);
        assertThat(liveKeys(kafka, "site-b", List.of(LAYOUT.dirty()), "site-a")).as("nothing of site-a's in B's own topic").isZero();

        try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(replayerProps(kafka, sites, "r-b"), Map.of()))) {
            sites.restoreLink();
            await().atMost(Duration.ofSeconds(90)).until(() -> sites.atA().mode() == Mode.REPLICATING);
        }
        ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));
        assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
        assertNoLiveKeyAnywhere(kafka, "site-a");
    }

    private void splitBrainResolvedFromClusterB(TwoSiteKafka kafka, TwoSites sites) {
        await().atMost(Duration.ofSeconds(60)).until(() -> sites.atA().mode() == Mode.REPLICATING && sites.atA().dirtyRegions() == 0
                && sites.atB().metadata().consistent());
        sites.cutLink();
        await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            sites.siteB.promote("vol", false);
            return true;
        });
        ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0xaa 1M 1M", "write -P 0xab 16M 64k"));
        ResyncIT.qemuIo(sites.siteBUri(), List.of("write -P 0xbb 1536k 1M", "write -P 0xbc 24M 128k"));
        sites.restoreLink();
        await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.SPLIT_BRAIN && sites.atB().mode() == Mode.SPLIT_BRAIN);
        String hashA = Checksums.sha256(sites.primaryFile());

        // run from site-b: the replayer configuration names cluster B only
        Path config = BlockrepProcess.write(dir.resolve("replayer-b.properties"), replayerProps(kafka, sites, "r-resolve-b"));
        int exit = Main.run("resolve", "vol", "--primary", "site-a", "--config", config.toString(), "--yes", "--timeout", "2m",
                "--control", "127.0.0.1:" + sites.siteA.controlPort() + ",127.0.0.1:" + sites.siteB.controlPort());
        assertThat(exit).isZero();

        assertThat(sites.atA().mode()).isEqualTo(Mode.REPLICATING);
        assertThat(sites.atB().role()).isEqualTo(Role.SECONDARY);
        assertThat(Checksums.sha256(sites.primaryFile())).as("site-a kept its data").isEqualTo(hashA);
        assertThat(Checksums.sha256(sites.secondaryFile())).as("site-b equals site-a").isEqualTo(hashA);
        assertNoLiveKeyAnywhere(kafka, "site-a");
    }

    /**
     * Both clusters, each reading its own topic and the peer's mirror: no live key of the volume. The tombstones of
     * site-a's keys were written to cluster B's own topic (never to a mirrored one) and reached cluster A by the mirror.
     */
    private void assertNoLiveKeyAnywhere(TwoSiteKafka kafka, String source) {
        await().atMost(Duration.ofSeconds(30)).until(() -> liveKeys(kafka, "site-b", List.of(LAYOUT.dirty(), mirrored("site-a")), null) == 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> liveKeys(kafka, "site-a", List.of(LAYOUT.dirty(), mirrored("site-b")), null) == 0);
        assertThat(liveKeys(kafka, "site-b", List.of(mirrored("site-a")), source))
                .as("the mirrored topic alone still holds site-a's values: only the tombstones beside it make them clean").isPositive();
        assertThat(tombstonesOf(kafka, "site-b", LAYOUT.dirty(), source)).as("tombstones of " + source + "'s keys on B").isPositive();
        assertThat(tombstonesOf(kafka, "site-a", mirrored("site-b"), source)).as("B's tombstones mirrored to A").isPositive();
        assertThat(tombstonesOf(kafka, "site-a", LAYOUT.dirty(), source)).as("nothing tombstoned on A").isZero();
    }

    private static String mirrored(String alias) {
        return alias + "." + LAYOUT.dirty();
    }

    /**
     * Live region keys of "vol" (of {@code node}, or of any node when null) on {@code site}'s cluster: in {@code topics.get(0)}
     * alone, or in the local topic merged with the peer's mirror when {@code topics} names both.
     */
    private static long liveKeys(TwoSiteKafka kafka, String site, List<String> topics, String node) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", kafka.bootstrapServers(site));
        String peer = kafka.sites().stream().filter(s -> !s.equals(site)).findFirst().orElseThrow();
        try (DirtyTopicReader reader = topics.size() == 1 ? new DirtyTopicReader(p, topics.get(0))
                : new DirtyTopicReader(p, new SourceTopics(LAYOUT, List.of(peer), "."))) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            if (node == null) {
                return reader.index().liveCount("vol");
            }
            return reader.index().eras("vol", node).stream().mapToLong(e -> reader.index().liveCount("vol", node, e)).sum();
        }
    }

    /** Keys of {@code node} in {@code topic} whose last record is a tombstone. */
    private static long tombstonesOf(TwoSiteKafka kafka, String site, String topic, String node) {
        Map<String, Boolean> last = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicContents.readAll(kafka.bootstrapServers(site), topic)) {
            DirtyKey key = DirtyKey.parse(r.key());
            if (key.volume().equals("vol") && key.node().equals(node)) {
                last.put(key.toString(), r.value() == null);
            }
        }
        return last.values().stream().filter(t -> t).count();
    }

    private static Properties replayerProps(TwoSiteKafka kafka, TwoSites sites, String id) {
        Properties p = new Properties();
        p.setProperty("replayer.id", id);
        p.setProperty("replayer.kafka.bootstrap.servers", kafka.bootstrapServers("site-b"));
        p.setProperty("replayer.mirror.policy", "default");
        p.setProperty("replayer.mirror.peer.aliases", "site-a");
        p.setProperty("replayer.mirror.catchup.timeout", "60s");
        p.setProperty("replayer.link.secret", TwoSites.SECRET);
        p.setProperty("replayer.link.timeout", "10s");
        p.setProperty("replayer.nodes", "site-a,site-b");
        for (io.blockrep.producer.Facility site : List.of(sites.siteA, sites.siteB)) {
            p.setProperty("replayer.node." + site.nodeId() + ".link", "127.0.0.1:" + site.linkPort());
            p.setProperty("replayer.node." + site.nodeId() + ".control", "127.0.0.1:" + site.controlPort());
        }
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a,site-b");
        return p;
    }
}
