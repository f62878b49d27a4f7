package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command, run as a user would: the packaged jar, real NBD clients, a clean stop. */
class QuickstartIT {
    @TempDir
    Path dir;

    @Test
    void quickstartServesADemoVolumeThatRealClientsReadAndWrite() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        ExternalCommand.requireTool("nbdcopy", "libnbd-bin");
        ExternalCommand.requireTool("nbdinfo", "libnbd-bin");
        Path jar = Path.of("target", "blockrep.jar").toAbsolutePath();
        assertThat(jar).as("the shaded jar is built in the package phase").exists();
        int kafkaPort = FreePorts.find();
        int nbdPort = FreePorts.find();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        byte[] bytes = new byte[16 << 20];
        new Random(7).nextBytes(bytes);
        try (ExternalCommand.Running qs = ExternalCommand.start(List.of(java, "-jar", jar.toString(), "quickstart",
                "--dir", dir.resolve("qs").toString(), "--kafka-port", Integer.toString(kafkaPort),
                "--nbd-port", Integer.toString(nbdPort), "--volume-size", "256M"))) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> qs.stdout().contains("Press Ctrl-C to stop.") || !qs.isAlive());
            assertThat(qs.isAlive()).as("quickstart died:\n" + qs.stdout() + qs.stderr()).isTrue();
            assertThat(qs.stdout()).contains("127.0.0.1:" + kafkaPort).contains("nbd://127.0.0.1:" + nbdPort + "/demo");

            String uri = "nbd://127.0.0.1:" + nbdPort + "/demo";
            ExternalCommand.Result list = ExternalCommand.run(Duration.ofSeconds(30), "nbdinfo", "--list", "nbd://127.0.0.1:" + nbdPort);
            assertThat(list.exitCode()).as(list.describe()).isZero();
            assertThat(list.stdout()).contains("export=\"demo\"").contains("268435456");

            ExternalCommand.Result io = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri,
                    "-c", "write -P 0x5a 1M 2M", "-c", "read -P 0x5a 1M 2M", "-c", "read -P 0 0 1M");
            assertThat(io.exitCode()).as(io.describe()).isZero();
            assertThat(io.stdout() + io.stderr()).doesNotContain("Pattern verification failed").doesNotContain("error");

            Path data = dir.resolve("data.bin");
            Files.write(data, bytes);
            ExternalCommand.Result in = ExternalCommand.run(Duration.ofSeconds(60), "nbdcopy", data.toString(), uri);
            assertThat(in.exitCode()).as(in.describe()).isZero();
            Path back = dir.resolve("back.bin");
            ExternalCommand.Result out = ExternalCommand.run(Duration.ofSeconds(60), "nbdcopy", uri, back.toString());
            assertThat(out.exitCode()).as(out.describe()).isZero();
            assertThat(Files.size(back)).isEqualTo(256L << 20);
            Path head = dir.resolve("head.bin");
            Files.write(head, Arrays.copyOf(Files.readAllBytes(back), bytes.length));
            assertThat(Checksums.sha256(head)).isEqualTo(Checksums.sha256(data));

            qs.terminate();
            ExternalCommand.Result stopped = qs.await(Duration.ofSeconds(60));
            assertThat(stopped.stdout()).as(stopped.describe()).contains("stopped cleanly");
            assertThat(stopped.exitCode()).as("SIGTERM after a clean stop").isEqualTo(143);
        }
        Path volume = dir.resolve("qs/site-a/volumes/demo/data.img");
        byte[] onDisk = Files.readAllBytes(volume);
        assertThat(Arrays.copyOf(onDisk, bytes.length)).as("what nbdcopy wrote is on the volume's disk").isEqualTo(bytes);
    }
}
