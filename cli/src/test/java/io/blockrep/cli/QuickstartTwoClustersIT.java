package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quickstart --two-clusters} from the packaged jar: two embedded clusters, MirrorMaker 2 in-process,
 * writes through NBD while the link is cut, and after the restore the replayer (on site-b's cluster) brings
 * site-b's replica to site-a's contents from site-a's dirty records as mirrored to cluster B.
 */
@Tag("slow")
class QuickstartTwoClustersIT {
    @TempDir
    Path dir;

    @Test
    void anOutageIsReplayedFromSiteAsMirroredTopicOnClusterB() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        Path jar = Path.of("target", "blockrep.jar").toAbsolutePath();
        assertThat(jar).as("the shaded jar is built in the package phase").exists();
        int kafkaPort = freePortWithItsSiteBPort();
        int nbdPort = FreePorts.find();
        int controlPort = FreePorts.find();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (ExternalCommand.Running qs = ExternalCommand.start(List.of(java, "-jar", jar.toString(), "quickstart", "--two-clusters",
                "--dir", dir.resolve("qs").toString(), "--kafka-port", Integer.toString(kafkaPort),
                "--nbd-port", Integer.toString(nbdPort), "--control-port", Integer.toString(controlPort),
                "--volume-size", "64M", "--no-link-tls"))) {
            await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(200))
                    .until(() -> qs.stdout().contains("Press Ctrl-C to stop.") || !qs.isAlive());
            assertThat(qs.isAlive()).as("quickstart died:\n" + qs.stdout() + qs.stderr()).isTrue();
            int siteBKafka = kafkaPort + QuickstartCommand.SITE_B_OFFSET;
            assertThat(qs.stdout()).contains("Kafka cluster A").contains("127.0.0.1:" + kafkaPort)
                    .contains("Kafka cluster B").contains("127.0.0.1:" + siteBKafka).contains("site-a.blockrep.dirty");

            String uri = "nbd://127.0.0.1:" + nbdPort + "/demo";
            String control = "127.0.0.1:" + controlPort;
            String token = dir.resolve("qs/control.token").toString();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> cli(java, jar, "status", "--control", control, "--token-file", token).stdout().contains("REPLICATING"));
            ExternalCommand.Result before = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", "write -P 0xab 0 1M");
            assertThat(before.exitCode()).as(before.describe()).isZero();

            ExternalCommand.Result cut = cli(java, jar, "link", "cut", "--control", control, "--token-file", token);
            assertThat(cut.exitCode()).as(cut.describe()).isZero();
            ExternalCommand.Result logged = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", "write -P 0xcd 8M 4M");
            assertThat(logged.exitCode()).as(logged.describe()).isZero();
            assertThat(Checksums.sha256(dir.resolve("qs/site-b/volumes/demo/data.img")))
                    .as("the cut link kept the logged writes from site-b")
                    .isNotEqualTo(Checksums.sha256(dir.resolve("qs/site-a/volumes/demo/data.img")));

            ExternalCommand.Result restore = cli(java, jar, "link", "restore", "--control", control, "--token-file", token);
            assertThat(restore.exitCode()).as(restore.describe()).isZero();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> qs.stderr().contains("replayed to site-b")
                            && cli(java, jar, "status", "--control", control, "--token-file", token).stdout().contains("REPLICATING"));
            assertThat(Checksums.sha256(dir.resolve("qs/site-b/volumes/demo/data.img")))
                    .as("after the outage the replayer brought site-b's replica back to site-a's contents")
                    .isEqualTo(Checksums.sha256(dir.resolve("qs/site-a/volumes/demo/data.img")));
            assertThat(qs.stderr()).as("the replayer read site-a's records through the mirror").contains("reading mirrored [site-a.blockrep.dirty");

            qs.terminate();
            ExternalCommand.Result stopped = qs.await(Duration.ofSeconds(90));
            assertThat(stopped.stdout()).as(stopped.describe()).contains("stopped cleanly");
        }
    }

    /** A free port whose site-b twin (+{@value QuickstartCommand#SITE_B_OFFSET}, cluster B's) is free too. */
    private static int freePortWithItsSiteBPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = FreePorts.find();
            try (ServerSocket twin = new ServerSocket(port + QuickstartCommand.SITE_B_OFFSET, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no free port p with p + " + QuickstartCommand.SITE_B_OFFSET + " free as well");
    }

    private static ExternalCommand.Result cli(String java, Path jar, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java, "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return ExternalCommand.run(Duration.ofSeconds(60), cmd);
    }
}
