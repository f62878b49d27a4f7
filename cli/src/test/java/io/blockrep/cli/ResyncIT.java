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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headline: embedded Kafka, a primary, a secondary and a replayer; write through a real NBD
 * client; cut the link; write more; restore it; the replayer resynchronises, the facility cuts over,
 * and the replica is byte-identical to the source with no live dirty key left.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ResyncIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    static void qemuIo(String uri, List<String> commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(120), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("error").doesNotContain("failed");
    }

    static List<String> randomWrites(long seed, int count) {
        Random random = new Random(seed);
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long offset = (long) random.nextInt((int) (SIZE / 4096) - 256) * 4096;
            commands.add("write -P " + (1 + random.nextInt(250)) + " " + offset + " " + 4096L * (1 + random.nextInt(128)));
        }
        return commands;
    }

    static Properties replayerProps(KafkaBroker kafka, TwoSites sites, String id) {
        return replayerProps(kafka.bootstrapServers(), sites, id);
    }

    /**
     * A replayer of {@code vol} with Kafka at {@code bootstrap}: the same configuration whichever node is
     * primary (the replayer finds the direction itself), both facilities reached directly, not through the
     * proxy the test cuts.
     */
    static Properties replayerProps(String bootstrap, TwoSites sites, String id) {
        Properties p = ReplayerProperties.of(id, bootstrap, TwoSites.SECRET, List.of("vol"),
                ReplayerProperties.Node.of(sites.siteA), ReplayerProperties.Node.of(sites.siteB));
        p.setProperty("replayer.link.timeout", "10s");
        return p;
    }

    static long liveDirtyKeys(KafkaBroker kafka, String volume) {
        Properties p = new Properties();
        p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (DirtyTopicReader reader = new DirtyTopicReader(p, "blockrep.dirty")) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            return reader.index().liveCount(volume);
        }
    }

    @Test
    void cutWriteRestoreReplayLeavesAByteIdenticalReplica(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            qemuIo(sites.primaryUri(), randomWrites(1, 20));
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            qemuIo(sites.primaryUri(), randomWrites(2, 200));
            assertThat(sites.primary().dirtyRegions()).isPositive();
            assertThat(Checksums.sha256(sites.secondaryFile())).isNotEqualTo(Checksums.sha256(sites.primaryFile()));

            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(replayerProps(kafka, sites, "r1"), Map.of()))) {
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            qemuIo(sites.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
            assertThat(sites.primary().dirtyRegions()).isZero();
            assertThat(sites.primary().tracker().pendingEras()).isEmpty();
            await().atMost(Duration.ofSeconds(30)).until(() -> liveDirtyKeys(kafka, "vol") == 0);
        }
    }

    /** Two sites without autosync, replicating, then the link cut and 50 writes (random from {@code seed}) logged. */
    private TwoSites outageWithoutAutosync(KafkaBroker kafka, long seed) {
        TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).withPrimaryProperty("producer.autosync", "false").start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            qemuIo(sites.primaryUri(), randomWrites(seed, 50));
            return sites;
        } catch (RuntimeException | Error e) {
            sites.close();
            throw e;
        }
    }

    @Test
    void withoutAutosyncTheVolumeWaitsForApprovalThenResyncs(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = outageWithoutAutosync(kafka, 3)) {
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(replayerProps(kafka, sites, "r2"), Map.of()))) {
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.AWAITING_APPROVAL);
                // Still logging while it waits: a write now is recorded, nothing is copied.
                qemuIo(sites.primaryUri(), List.of("write -P 0x77 5M 64k"));
                assertThat(sites.primary().mode()).isEqualTo(Mode.AWAITING_APPROVAL);
                assertThat(sites.primary().tracker().pendingEras()).isEmpty();

                int exit = Main.run("approve", "vol", "--control", "127.0.0.1:" + sites.siteA.controlPort());
                assertThat(exit).isZero();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }

    @Test
    void aReplayJobLeavesAVolumeThatTheServiceOwnsToTheServiceAndFollowsIt(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = outageWithoutAutosync(kafka, 5)) {
            Properties props = replayerProps(kafka, sites, "r5");
            Path config = BlockrepProcess.write(dir.resolve("replayer.properties"), props);
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> replayer.ownedVolumes().contains("vol"));
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.AWAITING_APPROVAL);

                java.io.StringWriter out = new java.io.StringWriter();
                int exit = Main.commandLine().setOut(new java.io.PrintWriter(out, true))
                        .execute("replay", "vol", "--config", config.toString(), "--timeout", "2m");

                assertThat(exit).as(out.toString()).isZero();
                assertThat(out.toString()).contains("vol is replayed by the replayer service").contains("vol is REPLICATING");
            }
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
            await().atMost(Duration.ofSeconds(30)).until(() -> liveDirtyKeys(kafka, "vol") == 0);
        }
    }

    @Test
    void verifyFindsACorruptedReplicaRegionAndTheReplayerRepairsIt(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            qemuIo(sites.primaryUri(), List.of("write -P 0x42 3M 1M", "flush"));
            Properties props = replayerProps(kafka, sites, "r3");
            Path config = dir.resolve("replayer.properties");
            try (java.io.Writer w = java.nio.file.Files.newBufferedWriter(config)) {
                props.store(w, null);
            }
            assertThat(Main.run("verify", "vol", "--config", config.toString())).as("replica starts identical").isZero();

            // Corrupt one byte of region 50 (offset 50 * 64K + 100) on the replica behind blockrep's back.
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(sites.secondaryFile(),
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xEE}), 50L * 65536 + 100);
            }
            java.io.StringWriter out = new java.io.StringWriter();
            picocli.CommandLine cl = Main.commandLine();
            cl.setOut(new java.io.PrintWriter(out, true));
            assertThat(cl.execute("verify", "vol", "--config", config.toString())).as("differences found").isEqualTo(1);
            assertThat(out.toString()).contains("1 of 1024 regions differ").contains("[50]");
            assertThat(sites.primary().mode()).isIn(Mode.RESYNCING, Mode.CUTOVER, Mode.REPLICATING);

            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> sites.primary().mode() == Mode.REPLICATING
                        && sites.primary().dirtyRegions() == 0);
            }
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
            assertThat(Main.run("verify", "vol", "--config", config.toString())).as("repaired").isZero();
        }
    }

    @Test
    void writesKeepRunningThroughResyncAndCutover(KafkaBroker kafka) {
        ExternalCommand.requireTool("fio", "fio");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            qemuIo(sites.primaryUri(), randomWrites(4, 100));
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(replayerProps(kafka, sites, "r4"), Map.of()));
                 ExternalCommand.Running fio = ExternalCommand.start(List.of("fio", "--name=through-resync", "--ioengine=nbd",
                         "--uri=" + sites.primaryUri(), "--rw=randwrite", "--bs=4k", "--iodepth=8", "--size=32M", "--offset=16M",
                         "--time_based", "--runtime=8", "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--verify_state_save=0"))) {
                sites.proxy.restore();
                ExternalCommand.Result result = fio.await(Duration.ofSeconds(120));
                assertThat(result.exitCode()).as(result.describe()).isZero();
                assertThat(result.stdout()).doesNotContain("verify: bad");
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            qemuIo(sites.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }
}
