package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a primary facility, run as a real process from the packaged jar, in LOGGING and in
 * REPLICATING; after a restart its dirty record must hold every region it may not have replicated.
 */
@Tag("slow")
class CrashRecoveryIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final Path JAR = Path.of("target", "blockrep.jar").toAbsolutePath();

    @TempDir
    Path dir;
    private final List<ExternalCommand.Running> processes = new ArrayList<>();
    private int controlA;
    private int nbdA;
    private Path configA;

    @BeforeEach
    void sites() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkB = FreePorts.find();
        controlA = FreePorts.find();
        nbdA = FreePorts.find();
        Path configB = config("site-b", "SECONDARY", FreePorts.find(), FreePorts.find(), Map.of("producer.link.listen", "127.0.0.1:" + linkB));
        configA = config("site-a", "PRIMARY", nbdA, controlA, Map.of("producer.link.peer", "127.0.0.1:" + linkB,
                "producer.link.listen", "127.0.0.1:0"));
        start(configB);
        startA();
    }

    @AfterEach
    void stop() {
        processes.forEach(ExternalCommand.Running::close);
    }

    private Path config(String node, String role, int nbd, int control, Map<String, String> link) {
        Map<String, String> more = new java.util.LinkedHashMap<>(link);
        more.put("producer.activity.checkpoint.interval", "1h");
        return BlockrepProcess.facilityConfig(dir, node, role, 64L << 20, nbd, control, "crash-test-secret-0123456789", more);
    }

    private ExternalCommand.Running start(Path config) {
        ExternalCommand.Running p = ExternalCommand.start(List.of(JAVA, "-jar", JAR.toString(), "producer", "--config", config.toString()));
        processes.add(p);
        return p;
    }

    private ExternalCommand.Running startA() {
        ExternalCommand.Running a = start(configA);
        await().atMost(Duration.ofSeconds(60)).until(() -> !a.isAlive() || status() != null);
        assertThat(a.isAlive()).as(a.stderr()).isTrue();
        return a;
    }

    private JsonNode status() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controlA + "/v1/status")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body()).path("volumes").get(0);
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    private void post(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controlA + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
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
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(status().path("mode").asText()));
        post("/v1/link/cut");
        await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(status().path("mode").asText()));
        TreeSet<Long> regions = write(0x61, 3, 10, 40);
        assertThat(status().path("dirtyRegions").asLong()).isEqualTo(regions.size());

        processes.get(1).kill();
        startA();
        JsonNode after = status();
        assertThat(after.path("dirtyRegions").asLong()).as("dirty regions survive kill -9").isEqualTo(regions.size());
        assertThat(after.path("mode").asText()).as("a dirty volume does not return to REPLICATING without a resync").isNotEqualTo("REPLICATING");
        verify(0x61, 3);
        verify(0x61, 40);
    }

    @Test
    void killedWhileReplicatingTurnsHotRegionsDirty() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(status().path("mode").asText()));
        TreeSet<Long> regions = write(0x62, 1, 20);
        assertThat(status().path("dirtyRegions").asLong()).isZero();

        processes.get(1).kill();
        startA();
        JsonNode after = status();
        assertThat(after.path("dirtyRegions").asLong()).as("hot regions come back dirty").isEqualTo(regions.size());
        assertThat(after.path("mode").asText()).isNotEqualTo("REPLICATING");
        verify(0x62, 20);
    }
}
