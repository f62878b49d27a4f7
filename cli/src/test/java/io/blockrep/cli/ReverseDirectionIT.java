package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replayer has no direction of its own: with site-b as the primary and site-a as the replica,
 * and the very configuration {@link ResyncIT} uses (nodes "site-a,site-b"), an outage is resynced
 * from site-b to site-a from site-b's dirty records, read over site-b's link; {@code replay} and
 * {@code verify} find site-b as the primary by asking both facilities.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ReverseDirectionIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    private static Set<String> dirtyNodes(KafkaBroker kafka, String volume) {
        Properties p = new Properties();
        p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (DirtyTopicReader reader = new DirtyTopicReader(p, "blockrep.dirty")) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            return reader.index().nodes(volume);
        }
    }

    @Test
    void siteBIsThePrimaryAndSiteAIsResyncedFromItByTheSameConfiguration(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).withNodeIds("site-b", "site-a").start()) {
            assertThat(sites.siteA.nodeId()).as("the primary facility").isEqualTo("site-b");
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            ResyncIT.qemuIo(sites.primaryUri(), ResyncIT.randomWrites(21, 20));
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            ResyncIT.qemuIo(sites.primaryUri(), ResyncIT.randomWrites(22, 150));
            assertThat(sites.primary().dirtyRegions()).isPositive();
            assertThat(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img")))
                    .isNotEqualTo(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img")));
            await().atMost(Duration.ofSeconds(30)).until(() -> dirtyNodes(kafka, "vol").equals(Set.of("site-b")));

            Properties props = ResyncIT.replayerProps(kafka, sites, "r-reverse");
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img"))).as("site-a's replica equals site-b")
                    .isEqualTo(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img")));
            assertThat(sites.primary().dirtyRegions()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);

            Path config = BlockrepProcess.write(dir.resolve("replayer.properties"), props);
            StringWriter out = new StringWriter();
            picocli.CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(out, true));
            assertThat(cli.execute("verify", "vol", "--config", config.toString())).as(out.toString()).isZero();
            assertThat(out.toString()).contains("identical on site-b (primary) and site-a");
            assertThat(Main.run("replay", "vol", "--config", config.toString(), "--timeout", "30s")).isZero();
        }
    }
}
