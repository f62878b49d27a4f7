package io.blockrep.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.testkit.kafka.MirrorMaker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;
import org.apache.kafka.connect.mirror.MirrorCheckpointConnector;
import org.apache.kafka.connect.mirror.MirrorHeartbeatConnector;
import org.apache.kafka.connect.mirror.MirrorMakerConfig;
import org.apache.kafka.connect.mirror.MirrorSourceConnector;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * connectors/*.json (for a Kafka Connect cluster) and mm2.properties (dedicated MirrorMaker) say the same:
 * each JSON file must equal, key for key, the connector configuration MirrorMaker itself derives from
 * mm2.properties for that flow and connector ({@link MirrorMakerConfig#connectorBaseConfig}), and must set every
 * connector setting mm2.properties sets. A setting changed in one file and not the other fails here.
 */
class ConnectorFilesTest {
    private static final Path CONNECT_CONFIG = MirrorMaker.repositoryRoot().resolve("connect-config");
    private static final Pattern NAME = Pattern.compile("mirror-(source|checkpoint|heartbeat)-([a-z0-9-]+)-to-([a-z0-9-]+)");
    private static final Map<String, Class<? extends Connector>> KINDS = Map.of(
            "source", MirrorSourceConnector.class,
            "checkpoint", MirrorCheckpointConnector.class,
            "heartbeat", MirrorHeartbeatConnector.class);
    /** Worker-level in dedicated mode (MirrorMakerConfig#workerConfig), connector-level in a Connect cluster. */
    private static final Set<String> WORKER_KEYS = Set.of("key.converter", "value.converter", "header.converter");

    private static final Map<String, String> MM2 = MirrorMaker.load(CONNECT_CONFIG.resolve("mm2.properties"));
    /** The file as MirrorMaker reads it; service_load only spares the class-path scan (not a connector setting). */
    private static final MirrorMakerConfig MM2_CONFIG = new MirrorMakerConfig(withServiceLoad(MM2));

    private static Map<String, String> withServiceLoad(Map<String, String> file) {
        Map<String, String> p = new LinkedHashMap<>(file);
        p.put("plugin.discovery", "service_load");
        return p;
    }

    static List<Path> connectorFiles() throws IOException {
        try (Stream<Path> files = Files.list(CONNECT_CONFIG.resolve("connectors"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void thereIsOneFileForEveryConnectorOfEveryFlow() throws IOException {
        List<String> expected = MM2_CONFIG.clusterPairs().stream()
                .flatMap(f -> KINDS.keySet().stream().map(k -> "mirror-" + k + "-" + f.source() + "-to-" + f.target() + ".json"))
                .sorted().toList();
        assertThat(connectorFiles().stream().map(p -> p.getFileName().toString()).toList())
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("connectorFiles")
    void agreesWithMm2Properties(Path file) throws Exception {
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        String name = json.path("name").asText();
        assertThat(file.getFileName().toString()).isEqualTo(name + ".json");
        Matcher m = NAME.matcher(name);
        assertThat(m.matches()).as("connector name %s", name).isTrue();
        Class<? extends Connector> type = KINDS.get(m.group(1));
        SourceAndTarget flow = new SourceAndTarget(m.group(2), m.group(3));
        assertThat(MM2_CONFIG.clusterPairs()).as("flows enabled in mm2.properties").contains(flow);

        Map<String, String> config = new LinkedHashMap<>();
        json.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        Map<String, String> derived = MM2_CONFIG.connectorBaseConfig(flow, type);
        Map<String, String> worker = MM2_CONFIG.workerConfig(flow);

        assertThat(config).containsEntry("connector.class", type.getName())
                .containsEntry("source.cluster.alias", flow.source())
                .containsEntry("target.cluster.alias", flow.target());
        for (Map.Entry<String, String> e : config.entrySet()) {
            String key = e.getKey();
            String mm2Value = WORKER_KEYS.contains(key) ? worker.get(key) : derived.get(key);
            assertThat(e.getValue()).as("%s in %s vs mm2.properties", key, file.getFileName()).isEqualTo(mm2Value);
        }
        ConfigDef def = type.getDeclaredConstructor().newInstance().config();
        for (String key : MM2.keySet()) {
            if (def.configKeys().containsKey(key) && derived.containsKey(key)) {
                assertThat(config).as("%s sets %s as mm2.properties does", file.getFileName(), key)
                        .containsEntry(key, derived.get(key));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("connectorFiles")
    void passesTheConnectorsOwnValidation(Path file) throws Exception {
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        Map<String, String> config = new LinkedHashMap<>();
        json.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        config.put("name", json.path("name").asText());
        Connector connector = (Connector) Class.forName(config.get("connector.class")).getDeclaredConstructor().newInstance();
        List<String> errors = connector.validate(config).configValues().stream()
                .filter(v -> !v.errorMessages().isEmpty())
                .map(ConfigValue::toString).toList();
        assertThat(errors).isEmpty();
    }

    @Test
    void theEssentialSettingsAreTheOnesDocumented() {
        // what docs/two-sites.md and the IT rely on; a change here is a change of deployment
        assertThat(MM2).containsEntry("topics", "blockrep\\.(dirty|events|status)")
                .containsEntry("replication.policy.class", "org.apache.kafka.connect.mirror.DefaultReplicationPolicy")
                .containsEntry("sync.topic.configs.enabled", "true")
                .containsEntry("emit.offset-syncs.enabled", "true")
                .containsEntry("emit.checkpoints.enabled", "true")
                .containsEntry("emit.heartbeats.enabled", "true")
                .containsEntry("site-a->site-b.enabled", "true")
                .containsEntry("site-b->site-a.enabled", "true");
        Pattern topics = Pattern.compile(MM2.get("topics"));
        assertThat(List.of("blockrep.dirty", "blockrep.events", "blockrep.status")).allMatch(t -> topics.matcher(t).matches());
        assertThat(List.of("site-a.blockrep.dirty", "blockrep.dirtyx", "blockrepXdirty", "blockrep-status-app-changelog"))
                .noneMatch(t -> topics.matcher(t).matches());
    }
}
