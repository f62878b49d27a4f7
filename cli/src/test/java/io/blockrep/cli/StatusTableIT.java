package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.replayer.status.StatusApp;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The status table against the real thing: two facilities, a replayer service running the status app,
 * an outage with writes through NBD. During the outage the table (read from the status topic with
 * {@code blockrep status --bootstrap-server}, and from the app's store over HTTP) shows what the
 * primary's own control API shows: mode, role, era, dirty regions and bytes. After the link returns
 * and the replay finishes, it shows zero dirty and REPLICATING, and the replica matches the source.
 */
@ExtendWith(KafkaBrokerExtension.class)
class StatusTableIT {
    private static final long SIZE = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    private static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        assertThat(exit).as(String.join(" ", args) + ": " + out + err).isZero();
        return out.toString();
    }

    /** The volume entry of {@code node} in a status document array, or a missing node. */
    private static JsonNode volumeOf(JsonNode facilities, String node, String volume) {
        for (JsonNode f : facilities) {
            if (f.path("node").asText().equals(node)) {
                for (JsonNode v : f.path("volumes")) {
                    if (v.path("volume").asText().equals(volume)) {
                        return v;
                    }
                }
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static JsonNode tableView(KafkaBroker kafka) throws Exception {
        return JSON.readTree(cli("status", "--bootstrap-server", kafka.bootstrapServers(), "--json"));
    }

    private static JsonNode facilityView(TwoSites sites) throws Exception {
        return JSON.readTree(cli("status", "--control", "127.0.0.1:" + sites.siteA.controlPort(), "--json"));
    }

    private static JsonNode query(StatusApp app, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + app.httpAddress() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The fields the table and the facility must agree on. */
    private static Map<String, String> compared(JsonNode v) {
        return Map.of("role", v.path("role").asText(), "mode", v.path("mode").asText(), "era", v.path("era").asText(),
                "dirtyRegions", v.path("dirtyRegions").asText(), "dirtyBytes", v.path("dirtyBytes").asText());
    }

    @Test
    void theStatusTableShowsWhatTheFacilityShowsDuringAnOutageAndZeroDirtyAfterTheReplay(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            Properties props = ResyncIT.replayerProps(kafka, sites, "r1");
            props.setProperty("replayer.status.listen", "127.0.0.1:" + FreePorts.find());
            props.setProperty("replayer.status.state.dir", dir.resolve("status-state").toString());
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                StatusApp app = replayer.statusApp().orElseThrow(() -> new AssertionError("the status app did not start"));
                app.running().toCompletableFuture().get(60, TimeUnit.SECONDS);

                sites.proxy.cut();
                await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
                ScatteredWrites.write(sites.primaryUri(), SIZE, 4L << 20, 7);
                long dirty = sites.primary().dirtyRegions();
                assertThat(dirty).as("the outage left dirty regions").isPositive();

                // The facility and the table agree once the dirty records are published and folded.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> assertThat(compared(volumeOf(tableView(kafka), "site-a", "vol")))
                                .isEqualTo(compared(volumeOf(facilityView(sites), "site-a", "vol"))));
                JsonNode table = volumeOf(tableView(kafka), "site-a", "vol");
                assertThat(table.path("mode").asText()).isEqualTo("LOGGING");
                assertThat(table.path("role").asText()).isEqualTo("PRIMARY");
                assertThat(table.path("dirtyRegions").asLong()).isEqualTo(dirty);
                assertThat(table.path("dirtyBytes").asLong()).isEqualTo(dirty * 65536);
                assertThat(table.path("oldestDirtyWriteMillis").asLong()).isPositive();

                JsonNode one = query(app, "/v1/status/vol");
                assertThat(one.path("nodes").path("site-a").path("dirtyRegions").asLong()).isEqualTo(dirty);
                assertThat(one.path("nodes").path("site-a").path("mode").asText()).isEqualTo("LOGGING");
                assertThat(query(app, "/v1/status")).hasSize(1);
                String text = cli("status", "--bootstrap-server", kafka.bootstrapServers());
                assertThat(text).containsPattern("site-a\\s+vol\\s+PRIMARY\\s+LOGGING\\s+\\d+\\s+" + dirty + "\\s");

                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    JsonNode after = volumeOf(tableView(kafka), "site-a", "vol");
                    assertThat(after.path("dirtyRegions").asLong()).as(after.toString()).isZero();
                    assertThat(after.path("dirtyBytes").asLong()).isZero();
                    assertThat(after.path("mode").asText()).isEqualTo("REPLICATING");
                    assertThat(after.has("oldestDirtyWriteMillis")).isFalse();
                });
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(query(app, "/v1/status/vol").path("replay").path("state").asText()).isEqualTo("REPLAY_FINISHED"));
                assertThat(app.poisonRecords()).isZero();
            }
            ScatteredWrites.flush(sites.primaryUri());
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }
}
