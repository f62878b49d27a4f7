package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quickstart --no-autosync} from the packaged jar, as the README has a user try the approval
 * path: after a link cut and restore the volume waits in AWAITING_APPROVAL (the replica keeps its
 * older contents), and the {@code blockrep approve} the banner prints resumes it to REPLICATING with
 * the replica byte-identical.
 */
@Tag("slow")
class QuickstartApprovalIT {
    @TempDir
    Path dir;

    private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private final Path jar = Path.of("target", "blockrep.jar").toAbsolutePath();

    @Test
    void afterACutAndRestoreTheVolumeWaitsForApprovalAndApproveResumesIt() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        assertThat(jar).as("the shaded jar is built in the package phase").exists();
        int kafkaPort = FreePorts.find();
        int nbdPort = FreePorts.find();
        int controlPort = FreePorts.find();
        Path qsDir = dir.resolve("qs");
        try (ExternalCommand.Running qs = ExternalCommand.start(List.of(java, "-jar", jar.toString(), "quickstart",
                "--dir", qsDir.toString(), "--kafka-port", Integer.toString(kafkaPort), "--nbd-port", Integer.toString(nbdPort),
                "--control-port", Integer.toString(controlPort), "--volume-size", "64M", "--no-autosync"))) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> qs.stdout().contains("Press Ctrl-C to stop.") || !qs.isAlive());
            assertThat(qs.isAlive()).as("quickstart died:\n" + qs.stdout() + qs.stderr()).isTrue();
            String control = "127.0.0.1:" + controlPort;
            assertThat(qs.stdout()).as("the banner names the next step").contains("bin/blockrep approve demo --control " + control);
            String token = qsDir.resolve("control.token").toString();
            String uri = "nbd://127.0.0.1:" + nbdPort + "/demo";
            Path source = qsDir.resolve("site-a/volumes/demo/data.img");
            Path replica = qsDir.resolve("site-b/volumes/demo/data.img");

            // The first sync waits for approval too (site-a starts LOGGING); approve it, as a user would.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> mode(control, token).contains("AWAITING_APPROVAL") || mode(control, token).contains("REPLICATING"));
            if (mode(control, token).contains("AWAITING_APPROVAL")) {
                approve(control, token);
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> mode(control, token).contains("\"mode\" : \"REPLICATING\""));
            write(uri, "write -P 0x5a 1M 2M");
            ExternalCommand.Result flushed = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", "flush");
            assertThat(flushed.exitCode()).as(flushed.describe()).isZero();
            assertThat(Checksums.sha256(replica)).as("replicating").isEqualTo(Checksums.sha256(source));

            ExternalCommand.Result cut = cli("link", "cut", "--control", control, "--token-file", token);
            assertThat(cut.exitCode()).as(cut.describe()).isZero();
            write(uri, "write -P 0xcd 8M 4M");
            assertThat(mode(control, token)).contains("\"mode\" : \"LOGGING\"").contains("\"dirtyRegions\" : 64");
            ExternalCommand.Result restore = cli("link", "restore", "--control", control, "--token-file", token);
            assertThat(restore.exitCode()).as(restore.describe()).isZero();

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> mode(control, token).contains("\"mode\" : \"AWAITING_APPROVAL\""));
            // it stays there: the link is up, nothing is copied until approved
            await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> mode(control, token).contains("\"mode\" : \"AWAITING_APPROVAL\""));
            assertThat(Checksums.sha256(replica)).as("the logged write is not on the replica before approval")
                    .isNotEqualTo(Checksums.sha256(source));

            approve(control, token);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> mode(control, token).contains("\"mode\" : \"REPLICATING\""));
            assertThat(Checksums.sha256(replica)).as("after approve the replayer brought site-b's replica to site-a's contents")
                    .isEqualTo(Checksums.sha256(source));

            qs.terminate();
            ExternalCommand.Result stopped = qs.await(Duration.ofSeconds(60));
            assertThat(stopped.stdout()).as(stopped.describe()).contains("stopped cleanly");
        }
    }

    private void approve(String control, String token) {
        ExternalCommand.Result approve = cli("approve", "demo", "--control", control, "--token-file", token);
        assertThat(approve.exitCode()).as(approve.describe()).isZero();
    }

    private static void write(String uri, String command) {
        ExternalCommand.Result io = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", command);
        assertThat(io.exitCode()).as(io.describe()).isZero();
    }

    private String mode(String control, String token) {
        return cli("status", "--control", control, "--token-file", token, "--json").stdout();
    }

    private ExternalCommand.Result cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of(java, "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return ExternalCommand.run(Duration.ofSeconds(60), cmd);
    }
}
