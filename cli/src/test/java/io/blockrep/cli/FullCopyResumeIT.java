package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code blockrep replay vol --full} (the packaged jar) killed with SIGKILL once about half of the
 * volume is on the replica, then run again: the second run resumes from the last acknowledged data
 * sets instead of copying from zero. Counted on the replica's side (its
 * {@code blockrep_volume_dataset_bytes_total}, every data set applied there whichever process sent it):
 * both runs together write at most 1.1x the volume; without the resume they write 1.5x. Then the
 * replica equals the source.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class FullCopyResumeIT {
    private static final long SIZE = 64L << 20;
    private static final String SECRET = "full-copy-resume-secret-0123456789";

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aFullCopyKilledAtHalfResumesAndCopiesTheVolumeAboutOnce(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkA = FreePorts.find();
        int linkB = FreePorts.find();
        int controlA = FreePorts.find();
        int controlB = FreePorts.find();
        int nbdA = FreePorts.find();
        int metricsB = FreePorts.find();
        Path configB = BlockrepProcess.facilityConfig(dir, "site-b", "SECONDARY", SIZE, FreePorts.find(), controlB, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), Map.of("producer.link.listen", "127.0.0.1:" + linkB,
                        "producer.metrics.listen", "127.0.0.1:" + metricsB)));
        Path configA = BlockrepProcess.facilityConfig(dir, "site-a", "PRIMARY", SIZE, nbdA, controlA, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), Map.of("producer.link.peer", "127.0.0.1:" + linkB,
                        "producer.link.listen", "127.0.0.1:" + linkA)));
        ControlApi a = new ControlApi(controlA);
        ControlApi b = new ControlApi(controlB);
        ExternalCommand.Running secondary = BlockrepProcess.startFacility(configB, b, processes);
        ExternalCommand.Running primary = BlockrepProcess.startFacility(configA, a, processes);
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)), () -> "REPLICATING".equals(a.mode()), primary, secondary);
        fill("nbd://127.0.0.1:" + nbdA + "/vol");

        // The replica is replaced by an empty sparse file (a new disk, or one nobody trusts): only a full copy mends it.
        secondary.terminate();
        secondary.await(Duration.ofSeconds(30));
        Path replica = dir.resolve("site-b/volumes/vol/data.img");
        Files.delete(replica);
        try (RandomAccessFile f = new RandomAccessFile(replica.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        secondary = BlockrepProcess.startFacility(configB, b, processes);
        ExternalCommand.Running restartedB = secondary;
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)), () -> "REPLICATING".equals(a.mode()), primary, restartedB);
        long before = applied(metricsB);

        Properties p = ReplayerProperties.of("full-copy", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node("site-a", linkA, controlA), new ReplayerProperties.Node("site-b", linkB, controlB));
        p.setProperty("replayer.rate", "8M");            // about 8 s for the volume: time to kill it half way
        p.setProperty("replayer.dataset.bytes", "1M");
        Path slow = BlockrepProcess.write(dir.resolve("replay-slow.properties"), p);
        ExternalCommand.Running first = processes.add(BlockrepProcess.startArgs("replay", "vol", "--full", "-c", slow.toString(),
                "--progress", "plain"));
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(20)),
                () -> !first.isAlive() || applied(metricsB) - before >= SIZE / 2, first, primary, restartedB);
        assertThat(first.isAlive()).as(first.stdout() + first.stderr()).isTrue();
        first.kill();
        long atKill = applied(metricsB) - before;
        assertThat(atKill).as("killed about half way").isBetween(SIZE * 2 / 5, SIZE * 3 / 4);
        assertThat(a.mode()).as("the copy is not finished").isNotEqualTo("REPLICATING");

        p.setProperty("replayer.rate", "0");
        Path fast = BlockrepProcess.write(dir.resolve("replay-fast.properties"), p);
        ExternalCommand.Result second = processes.add(BlockrepProcess.startArgs("replay", "vol", "--full", "-c", fast.toString(),
                "--progress", "plain")).await(Duration.ofSeconds(120));
        assertThat(second.exitCode()).as(second.describe()).isZero();
        assertThat(second.stdout()).as(second.describe()).contains("full copy resumes");
        assertThat(a.mode()).isEqualTo("REPLICATING");

        long total = applied(metricsB) - before;
        assertThat(total).as("bytes applied on the replica over both runs (first run %d)", atKill)
                .isGreaterThanOrEqualTo(SIZE).isLessThanOrEqualTo(SIZE * 11 / 10);
        assertThat(Checksums.sha256(replica)).as("replica equals source")
                .isEqualTo(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img")));
    }

    /** Every MiB of the volume written through the primary's NBD export, each with its own byte pattern. */
    private static void fill(String uri) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (long mib = 0; mib < SIZE >> 20; mib++) {
            cmd.addAll(List.of("-c", "write -P " + (1 + mib % 250) + " " + (mib << 20) + " 1M"));
        }
        cmd.addAll(List.of("-c", "flush"));
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(120), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    /** site-b's blockrep_volume_dataset_bytes_total for vol. */
    private long applied(int metricsPort) throws IOException, InterruptedException {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("blockrep_volume_dataset_bytes_total") && line.contains("volume=\"vol\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }
}
