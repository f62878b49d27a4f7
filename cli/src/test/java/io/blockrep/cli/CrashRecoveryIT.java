package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a primary facility, run as a real process from the packaged jar, in LOGGING and in
 * REPLICATING; after a restart its dirty record must hold every region it may not have replicated.
 */
@Tag("slow")
class CrashRecoveryIT {
    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();
    private ControlApi a;
    private int nbdA;
    private Path configA;

    @BeforeEach
    void sites() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkB = FreePorts.find();
        int controlA = FreePorts.find();
        a = new ControlApi(controlA);
        nbdA = FreePorts.find();
        Path configB = config("site-b", "SECONDARY", FreePorts.find(), FreePorts.find(), Map.of("producer.link.listen", "127.0.0.1:" + linkB));
        configA = config("site-a", "PRIMARY", nbdA, controlA, Map.of("producer.link.peer", "127.0.0.1:" + linkB,
                "producer.link.listen", "127.0.0.1:0"));
        processes.add(BlockrepProcess.start("producer", configB));
        startA();
    }

    private Path config(String node, String role, int nbd, int control, Map<String, String> link) {
        Map<String, String> more = new java.util.LinkedHashMap<>(link);
        more.put("producer.activity.checkpoint.interval", "1h");
        return BlockrepProcess.facilityConfig(dir, node, role, 64L << 20, nbd, control, "crash-test-secret-0123456789", more);
    }

    private void startA() {
        BlockrepProcess.startFacility(configA, a, processes);
    }

    /** Writes 1 MiB at each offset (16 regions of 64 KiB each) with a pattern; returns the regions. */
    private TreeSet<Long> write(int pattern, long... offsetsMiB) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", "nbd://127.0.0.1:" + nbdA + "/vol"));
        TreeSet<Long> regions = new TreeSet<>();
        for (long m : offsetsMiB) {
            cmd.addAll(List.of("-c", "write -P " + pattern + " " + m + "M 1M"));
            for (long r = m * 16; r < m * 16 + 16; r++) {
                regions.add(r);
            }
        }
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        return regions;
    }

    private void verify(int pattern, long offsetMiB) {
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw",
                "nbd://127.0.0.1:" + nbdA + "/vol", "-c", "read -P " + pattern + " " + offsetMiB + "M 1M");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).as(r.describe()).doesNotContain("Pattern verification failed");
    }

    @Test
    void killedWhileLoggingKeepsItsBitmapAndData() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(a.mode()));
        a.post("/v1/link/cut");
        await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(a.mode()));
        TreeSet<Long> regions = write(0x61, 3, 10, 40);
        assertThat(a.volume().path("dirtyRegions").asLong()).isEqualTo(regions.size());

        processes.get(1).kill();
        startA();
        JsonNode after = a.volume();
        assertThat(after.path("dirtyRegions").asLong()).as("dirty regions survive kill -9").isEqualTo(regions.size());
        assertThat(after.path("mode").asText()).as("a dirty volume does not return to REPLICATING without a resync").isNotEqualTo("REPLICATING");
        verify(0x61, 3);
        verify(0x61, 40);
    }

    @Test
    void killedWhileReplicatingTurnsHotRegionsDirty() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(a.mode()));
        TreeSet<Long> regions = write(0x62, 1, 20);
        assertThat(a.volume().path("dirtyRegions").asLong()).isZero();

        processes.get(1).kill();
        startA();
        JsonNode after = a.volume();
        assertThat(after.path("dirtyRegions").asLong()).as("hot regions come back dirty").isEqualTo(regions.size());
        assertThat(after.path("mode").asText()).isNotEqualTo("REPLICATING");
        verify(0x62, 20);
    }
}
