package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12 observations 1 and 2 through the real facility process (the packaged jar), with no Kafka: the
 * local bitmaps are the only record of the dirty regions. A damaged or deleted state file must come back as
 * more dirty regions, with the damage named in the volume's status.
 */
@Tag("slow")
class LocalStateDamageIT {
    private static final long SIZE = 64L << 20;
    private static final long REGIONS = SIZE / (64 << 10);

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();
    private ControlApi control;
    private int nbdA;
    private Path configA;
    private ExternalCommand.Running a;

    @BeforeEach
    void sites() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkB = FreePorts.find();
        int controlA = FreePorts.find();
        control = new ControlApi(controlA);
        nbdA = FreePorts.find();
        // Heartbeats slower than BlockrepProcess's 100 ms: a loaded test host must not drop the link while a test writes.
        Map<String, String> patient = Map.of("producer.activity.checkpoint.interval", "1h", "producer.link.heartbeat.interval", "1s",
                "producer.link.ack.timeout", "10s");
        Map<String, String> b = new java.util.HashMap<>(patient);
        b.put("producer.link.listen", "127.0.0.1:" + linkB);
        Map<String, String> a = new java.util.HashMap<>(patient);
        a.put("producer.link.peer", "127.0.0.1:" + linkB);
        a.put("producer.link.listen", "127.0.0.1:0");
        Path configB = BlockrepProcess.facilityConfig(dir, "site-b", "SECONDARY", SIZE, FreePorts.find(), FreePorts.find(),
                "damage-test-secret-0123456789", b);
        configA = BlockrepProcess.facilityConfig(dir, "site-a", "PRIMARY", SIZE, nbdA, controlA, "damage-test-secret-0123456789", a);
        processes.add(BlockrepProcess.start("producer", configB));
        startA();
    }

    private void startA() {
        a = BlockrepProcess.startFacility(configA, control, processes);
    }

    /** SIGTERM: an orderly stop (the JVM exits 143 after its shutdown hook closed the facility). */
    private void stopA() {
        a.terminate();
        ExternalCommand.Result r = a.await(Duration.ofSeconds(30));
        assertThat(r.exitCode()).as(r.describe()).isIn(0, 143);
    }

    /** Writes 1 MiB (16 regions of 64 KiB) at {@code offsetMiB}. */
    private void write(long offsetMiB) {
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "nbd://127.0.0.1:" + nbdA + "/vol",
                "-c", "write -P 0x63 " + offsetMiB + "M 1M");
        assertThat(r.exitCode()).as(r.describe() + "\n--- site-a\n" + a.stderr() + "\n--- site-b\n" + processes.get(0).stderr()).isZero();
    }

    private Path volumeDir() {
        return dir.resolve("site-a").resolve("volumes").resolve("vol");
    }

    /** Observation 1: two flipped bytes in a bit page of a stopped facility's bitmap made 16 dirty regions vanish. */
    @Test
    void flippedBytesInADirtyBitmapPageKeepItsRegionsDirty() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(control.mode()));
        control.post("/v1/link/cut");
        await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(control.mode()));
        write(35); // regions 560..575
        assertThat(control.volume().path("dirtyRegions").asLong()).isEqualTo(16);
        stopA();
        Path bitmap;
        try (Stream<Path> files = Files.list(volumeDir())) {
            bitmap = files.filter(p -> p.getFileName().toString().matches("dirty-\\d+\\.bitmap")).findFirst().orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(bitmap.toFile(), "rw")) {
            raf.seek(4096 + 560 / 8); // the two bytes holding regions 560..575
            raf.write(new byte[2]);
        }
        startA();
        JsonNode after = control.volume();
        assertThat(after.path("dirtyRegions").asLong()).as("every region of the damaged page is dirty").isEqualTo(REGIONS);
        assertThat(after.path("mode").asText()).isNotEqualTo("REPLICATING");
        assertThat(after.path("modeReason").asText()).contains("state damaged: " + bitmap.getFileName() + " page 0 checksum mismatch");
        assertThat(a.stdout() + a.stderr()).contains("ERROR").contains("page 0 checksum mismatch");
    }

    /** Observation 2: kill -9 in REPLICATING with hot regions, activity.bitmap deleted: dirty 0 and no warning. */
    @Test
    void deletedActivityLogAfterKillMakesEveryRegionDirty() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(control.mode()));
        write(5);
        assertThat(control.volume().path("dirtyRegions").asLong()).as(control.volume() + a.stderr()).isZero();
        a.kill();
        Files.delete(volumeDir().resolve("activity.bitmap"));
        startA();
        JsonNode after = control.volume();
        assertThat(after.path("dirtyRegions").asLong()).isEqualTo(REGIONS);
        assertThat(after.path("mode").asText()).isNotEqualTo("REPLICATING");
        assertThat(after.path("modeReason").asText()).contains("activity.bitmap is missing after an unclean stop");
    }

    /** After an orderly stop a missing activity log held nothing: no region becomes dirty. */
    @Test
    void deletedActivityLogAfterAnOrderlyStopIsRecreatedEmpty() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(control.mode()));
        write(5);
        stopA();
        assertThat(dir.resolve("site-a").resolve("clean-stop")).exists();
        Files.delete(volumeDir().resolve("activity.bitmap"));
        startA();
        assertThat(dir.resolve("site-a").resolve("clean-stop")).doesNotExist();
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(control.mode()));
        assertThat(control.volume().path("dirtyRegions").asLong()).isZero();
    }

    /** volume.json damaged: the facility refuses to start, naming the file, the cause and the recovery command. */
    @Test
    void damagedVolumeMetadataStopsTheStartWithTheRecoveryCommand() throws Exception {
        stopA();
        Path meta = volumeDir().resolve("volume.json");
        Files.writeString(meta, Files.readString(meta).substring(0, 40));
        ExternalCommand.Running again = BlockrepProcess.start("producer", configA);
        processes.add(again);
        ExternalCommand.Result r = again.await(Duration.ofSeconds(60));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr() + r.stdout()).contains(meta.toString()).contains("cannot be read")
                .contains("blockrep volume create vol --state-dir");
    }
}
