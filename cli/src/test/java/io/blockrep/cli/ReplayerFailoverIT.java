package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.schemas.EventType;
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
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replayers in one group: a process that owns the volume's partition and is copying, and an
 * in-process {@link ReplayerService} that joined later and owns other partitions. kill -9 of the
 * process moves the volume's partition to the in-process instance (after the dead member's session
 * times out), which rebuilds the dirty set from the topic and finishes the resync.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ReplayerFailoverIT {
    private static final long SIZE = 128L << 20;
    private static final String GROUP = "replayer-failover";
    private static final int PARTITIONS = 3;
    /** Issue #12: a killed replayer is replaced within ~10 s by default (6 s session timeout + a rebalance + the rebuild). */
    private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** Partitions of the dirty topic per member client id, as the group coordinator assigned them. */
    private static Map<String, Set<Integer>> assignment(KafkaBroker kafka) throws Exception {
        Properties p = new Properties();
        p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            return group.members().stream().collect(Collectors.toMap(MemberDescription::clientId,
                    m -> m.assignment().topicPartitions().stream().map(TopicPartition::partition).collect(Collectors.toSet()),
                    (x, y) -> x));
        }
    }

    @Test
    void theSurvivingReplayerTakesOverAKilledOnesVolumeAndFinishes(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int volumePartition = TopicLayout.partitionFor("vol", PARTITIONS);
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayEventsTail events = new ReplayEventsTail(kafka.bootstrapServers(), "blockrep.events")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            ScatteredWrites.write(sites.primaryUri(), SIZE, 40L << 20, 31);

            Properties slow = ResyncIT.replayerProps(kafka, sites, "r-proc");
            slow.setProperty("replayer.group.id", GROUP);
            // Slow enough that the copy outlasts the in-process member's join (two cooperative rebalances). Sets of
            // 1 MiB keep each rate-limiter wait under the secondary's 2 s idle timeout (see ReplayerRateLimitIT).
            slow.setProperty("replayer.rate", "1M");
            slow.setProperty("replayer.dataset.bytes", "1M");
            // No session timeout set: the takeover below is measured with the defaults (issue #12: at most ~10 s).
            slow.setProperty("replayer.kafka.client.id", "r-proc");
            try (ExternalCommand.Running process = BlockrepProcess.start("replayer", BlockrepProcess.write(dir.resolve("r-proc.properties"), slow))) {
                sites.proxy.restore();
                BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInSameThread(),
                        () -> !process.isAlive() || events.has("vol", "r-proc", EventType.REPLAY_STARTED), process);
                assertThat(process.isAlive()).as(process.stderr()).isTrue();

                Properties standby = ResyncIT.replayerProps(kafka, sites, "r-inproc");
                standby.setProperty("replayer.group.id", GROUP);
                standby.setProperty("replayer.rate", "0");
                standby.setProperty("replayer.kafka.client.id", "r-inproc");
                try (ReplayerService inProcess = ReplayerService.start(ReplayerConfig.from(standby, Map.of()))) {
                    // The group has rebalanced: both members hold partitions, the process still holds the volume's.
                    BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)), () -> {
                        Map<String, Set<Integer>> a = assignment(kafka);
                        return a.size() == 2 && !a.getOrDefault("r-inproc", Set.of()).isEmpty()
                                && a.getOrDefault("r-proc", Set.of()).contains(volumePartition);
                    }, process);
                    assertThat(inProcess.ownedVolumes()).doesNotContain("vol");

                    long killed = System.nanoTime();
                    process.kill();
                    assertThat(sites.primary().mode()).as("killed mid-replay").isEqualTo(Mode.RESYNCING);
                    assertThat(events.has("vol", "r-inproc", EventType.REPLAY_STARTED)).as("the in-process replayer had not copied yet").isFalse();
                    assertThat(events.has("vol", "r-proc", EventType.REPLAY_FINISHED)).isFalse();

                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> inProcess.ownedVolumes().contains("vol"));
                    Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                    System.out.println("ReplayerFailoverIT: takeover after kill -9 took " + takeover.toMillis() + " ms");
                    assertThat(takeover).as("takeover after kill -9 with the default consumer settings").isLessThanOrEqualTo(TAKEOVER_BOUND);
                    await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
                    await().atMost(Duration.ofSeconds(10)).pollInSameThread()
                            .until(() -> events.has("vol", "r-inproc", EventType.REPLAY_FINISHED));
                }
            }
            ScatteredWrites.flush(sites.primaryUri());
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
            assertThat(sites.primary().dirtyRegions()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
        }
    }
}
