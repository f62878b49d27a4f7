package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command, run as a user would: the packaged jar, real NBD clients, a clean stop. */
@Tag("slow")
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
        int controlPort = FreePorts.find();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        byte[] bytes = new byte[16 << 20];
        new Random(7).nextBytes(bytes);
        try (ExternalCommand.Running qs = ExternalCommand.start(List.of(java, "-jar", jar.toString(), "quickstart",
                "--dir", dir.resolve("qs").toString(), "--kafka-port", Integer.toString(kafkaPort),
                "--nbd-port", Integer.toString(nbdPort), "--control-port", Integer.toString(controlPort),
                "--volume-size", "256M"))) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> qs.stdout().contains("Press Ctrl-C to stop.") || !qs.isAlive());
            assertThat(qs.isAlive()).as("quickstart died:\n" + qs.stdout() + qs.stderr()).isTrue();
            assertThat(qs.stdout()).contains("127.0.0.1:" + kafkaPort).contains("nbd://127.0.0.1:" + nbdPort + "/demo");
            assertLinkTlsIsOn(qs.stdout());
            assertMetricsAreServed(qs.stdout());

            String uri = "nbd://127.0.0.1:" + nbdPort + "/demo";
            String control = "127.0.0.1:" + controlPort;
            Path tokenFile = dir.resolve("qs/control.token");
            String token = tokenFile.toString();
            assertThat(qs.stdout()).contains(token);
            assertThat(Files.getPosixFilePermissions(tokenFile))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                            PosixFilePermission.OWNER_WRITE);
            // The control APIs run with a token by default: a caller without it is refused, and nothing is done.
            ExternalCommand.Result anonymous = cli(java, jar, "link", "cut", "--control", control);
            assertThat(anonymous.exitCode()).as(anonymous.describe()).isNotZero();
            assertThat(anonymous.stdout() + anonymous.stderr()).contains("401");
            // site-a starts in LOGGING and replicates once the link has been healthy for the damping interval.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> cli(java, jar, "status", "--control", control, "--token-file", token).stdout().contains("REPLICATING"));
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

            ExternalCommand.Result synced = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", "flush");
            assertThat(synced.exitCode()).as(synced.describe()).isZero();
            assertThat(Checksums.sha256(dir.resolve("qs/site-b/volumes/demo/data.img")))
                    .as("site-b's replica equals site-a's volume")
                    .isEqualTo(Checksums.sha256(dir.resolve("qs/site-a/volumes/demo/data.img")));

            ExternalCommand.Result cut = cli(java, jar, "link", "cut", "--control", control, "--token-file", token);
            assertThat(cut.exitCode()).as(cut.describe()).isZero();
            ExternalCommand.Result logged = ExternalCommand.run(Duration.ofSeconds(30), "qemu-io", "-f", "raw", uri, "-c", "write -P 0xcd 8M 4M");
            assertThat(logged.exitCode()).as(logged.describe()).isZero();
            ExternalCommand.Result status = cli(java, jar, "status", "--control", control, "--token-file", token, "--json");
            assertThat(status.exitCode()).as(status.describe()).isZero();
            assertThat(status.stdout()).contains("\"mode\" : \"LOGGING\"").contains("\"dirtyRegions\" : 64");

            ExternalCommand.Result restore = cli(java, jar, "link", "restore", "--control", control, "--token-file", token);
            assertThat(restore.exitCode()).as(restore.describe()).isZero();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> cli(java, jar, "status", "--control", control, "--token-file", token).stdout().contains("REPLICATING"));
            assertThat(Checksums.sha256(dir.resolve("qs/site-b/volumes/demo/data.img")))
                    .as("after the outage the replayer brought site-b's replica back to site-a's contents")
                    .isEqualTo(Checksums.sha256(dir.resolve("qs/site-a/volumes/demo/data.img")));

            qs.terminate();
            ExternalCommand.Result stopped = qs.await(Duration.ofSeconds(60));
            assertThat(stopped.stdout()).as(stopped.describe()).contains("stopped cleanly");
            assertThat(stopped.exitCode()).as("SIGTERM after a clean stop").isEqualTo(143);
        }
        checkVolumeOnDisk(bytes);
    }

    /** Link TLS is on by default: the banner says where the certificates are, and every file is the owner's alone. */
    /** The quickstart prints a metrics URL for site-a, site-b and the replayer, and each answers with blockrep_ series. */
    private static void assertMetricsAreServed(String stdout) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("metrics \\(Prometheus\\)\\s+(http://127\\.0\\.0\\.1:\\d+/metrics)")
                .matcher(stdout);
        List<String> urls = new java.util.ArrayList<>();
        while (m.find()) {
            urls.add(m.group(1));
        }
        assertThat(urls).as(stdout).hasSize(3).doesNotHaveDuplicates();
        for (String url : urls) {
            ExternalCommand.Result curl = ExternalCommand.run(Duration.ofSeconds(30), "curl", "-fsS", url);
            assertThat(curl.exitCode()).as(curl.describe()).isZero();
            assertThat(curl.stdout()).as(url).contains("blockrep_");
        }
    }

    private void assertLinkTlsIsOn(String stdout) throws IOException {
        Path tls = dir.resolve("qs/tls");
        assertThat(stdout).contains("Link TLS (mutual").contains(tls.resolve("truststore.p12").toString());
        assertThat(java.nio.file.Files.getPosixFilePermissions(tls)).containsExactlyInAnyOrderElementsOf(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        for (String f : List.of("ca.p12", "site-a.p12", "site-b.p12", "quickstart-replayer.p12", "truststore.p12", "password")) {
            assertThat(java.nio.file.Files.getPosixFilePermissions(tls.resolve(f))).as(f).containsExactlyInAnyOrderElementsOf(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static ExternalCommand.Result cli(String java, Path jar, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return ExternalCommand.run(Duration.ofSeconds(60), cmd);
    }

    private void checkVolumeOnDisk(byte[] bytes) throws IOException {
        byte[] expected = bytes.clone();
        Arrays.fill(expected, 8 << 20, 12 << 20, (byte) 0xcd);
        byte[] onDisk = Arrays.copyOf(Files.readAllBytes(dir.resolve("qs/site-a/volumes/demo/data.img")), expected.length);
        assertThat(Arrays.equals(onDisk, expected)).as("what nbdcopy and qemu-io wrote is on site-a's disk").isTrue();
    }
}
