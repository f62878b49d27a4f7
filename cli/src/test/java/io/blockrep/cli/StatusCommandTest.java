package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.blockrep.common.Sizes;
import io.blockrep.producer.control.FacilityStatus;
import io.blockrep.producer.control.VolumeStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The text table of {@code blockrep status}, from status documents as the control API serves them. */
class StatusCommandTest {
    private static String table(String json) throws Exception {
        JsonNode facilities = new ObjectMapper().readTree(json);
        StringWriter out = new StringWriter();
        StatusCommand.printTable(new PrintWriter(out, true), facilities);
        return out.toString();
    }

    private static String facility(String node, String role, String mode, boolean consistent) {
        return "{\"node\":\"" + node + "\",\"timeMillis\":1000,\"link\":\"HEALTHY\",\"volumes\":[{\"volume\":\"vol\",\"role\":\""
                + role + "\",\"mode\":\"" + mode + "\",\"modeReason\":\"being resynchronised from the primary\",\"era\":3,"
                + "\"dirtyRegions\":0,\"dirtyBytes\":0,\"generations\":{\"current\":\"00000000deadbeef\",\"consistent\":"
                + consistent + "}}]}";
    }

    @Test
    void anInconsistentSecondaryIsShownAsSuchWithWhatItMeansForPromote() throws Exception {
        String out = table("[" + facility("site-a", "PRIMARY", "RESYNCING", true) + ","
                + facility("site-b", "SECONDARY", "SECONDARY", false) + "]");
        assertThat(out).contains("00000000!");
        assertThat(out).contains("site-b/vol: INCONSISTENT").contains("--force");
        assertThat(out).doesNotContain("site-a/vol: INCONSISTENT");
    }

    @Test
    void aConsistentSecondaryGetsNoNote() throws Exception {
        String out = table("[" + facility("site-b", "SECONDARY", "SECONDARY", true) + "]");
        assertThat(out).doesNotContain("INCONSISTENT").doesNotContain("site-b/vol:");
    }

    /** A facility's status as the control API serves it: the facility's own record, serialised by Jackson. */
    private static ArrayNode served(FacilityStatus... facilities) {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode all = mapper.createArrayNode();
        for (FacilityStatus f : facilities) {
            all.add(mapper.valueToTree(f));
        }
        return all;
    }

    private static String render(ArrayNode facilities, boolean json) throws Exception {
        StringWriter out = new StringWriter();
        StatusCommand.render(new PrintWriter(out, true), facilities, json);
        return out.toString();
    }

    /** The table's rows (header first) cut into cells at the header's column starts. */
    private static List<Map<String, String>> parse(String table) {
        List<String> lines = table.lines().takeWhile(l -> !l.isEmpty()).toList();
        List<String> headers = StatusCommand.COLUMNS.stream().map(StatusCommand.Column::header).toList();
        int[] starts = new int[headers.size()];
        int from = 0;
        for (int i = 0; i < headers.size(); i++) {
            starts[i] = lines.get(0).indexOf(headers.get(i), from);
            assertThat(starts[i]).as("header %s", headers.get(i)).isGreaterThanOrEqualTo(0);
            from = starts[i] + headers.get(i).length();
        }
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < starts.length; i++) {
                int end = i + 1 < starts.length ? starts[i + 1] : line.length();
                row.put(headers.get(i), line.substring(Math.min(starts[i], line.length()), Math.min(end, line.length())).trim());
            }
            rows.add(row);
        }
        return rows;
    }

    @Test
    void theTextTableAndJsonAgreeFieldForFieldIncludingKafkaStateAndPublishBacklog() throws Exception {
        VolumeStatus logging = new VolumeStatus("vol-a", "PRIMARY", "LOGGING", "link down", 7, 64, 64 * 65536L, 1_000L,
                1 << 30, 65536, List.of(6L), null, new VolumeStatus.ReplayProgress(6, 1 << 20, 4 << 20, 0, 2 << 20, 900),
                new VolumeStatus.Generations("00000000deadbeef", List.of("00000000deadbeef"), false),
                new VolumeStatus.Peer("site-b", "SECONDARY", "LOCAL_NEWER", "00000000cafe0000", ""));
        VolumeStatus clean = new VolumeStatus("a-much-longer-volume-name", "PRIMARY", "REPLICATING", "", 2, 0, 0, null,
                1 << 20, 65536, List.of(), null, null, new VolumeStatus.Generations("0123456789abcdef", List.of(), true), null);
        ArrayNode status = served(
                new FacilityStatus("site-a", 61_000, "HEALTHY", "127.0.0.1:10812", "UNREACHABLE", 64, List.of(logging, clean)),
                new FacilityStatus("site-b", 61_000, "LISTENING (1 peer)", null, "REACHABLE", 0, List.of()),
                new FacilityStatus("site-c", 61_000, "NONE", null, "FAILED: partition count changed", 3, List.of()));

        JsonNode json = new ObjectMapper().readTree(render(status, true));
        assertThat(json.toString()).isEqualTo(status.toString());
        List<Map<String, String>> rows = parse(render(status, false));

        // What each column must show of the JSON, written out independently of StatusCommand.
        Map<String, java.util.function.BiFunction<JsonNode, JsonNode, String>> expected = new LinkedHashMap<>();
        expected.put("NODE", (f, v) -> f.get("node").asText());
        expected.put("VOLUME", (f, v) -> v == null ? "-" : v.get("volume").asText());
        expected.put("ROLE", (f, v) -> v == null ? "-" : v.get("role").asText());
        expected.put("MODE", (f, v) -> v == null ? "-" : v.get("mode").asText());
        expected.put("ERA", (f, v) -> v == null ? "-" : v.get("era").asText());
        expected.put("DIRTY", (f, v) -> v == null ? "-" : v.get("dirtyRegions").asText());
        expected.put("DIRTY BYTES", (f, v) -> v == null ? "-" : Sizes.human(v.get("dirtyBytes").asLong()));
        expected.put("LINK", (f, v) -> f.get("link").asText());
        expected.put("KAFKA", (f, v) -> f.get("kafka").asText().split("[ :]")[0]);
        expected.put("BACKLOG", (f, v) -> f.get("kafkaBacklogRegions").asText());
        expected.put("GEN", (f, v) -> v == null ? "-" : v.get("generations").get("current").asText().substring(0, 8)
                + (v.get("generations").get("consistent").asBoolean() ? "" : "!"));
        expected.put("PEER", (f, v) -> v == null || v.get("peer").isNull() ? "-" : v.get("peer").get("decision").asText());
        expected.put("REPLAY", (f, v) -> v == null || v.get("replay").isNull() ? "-"
                : 100 * v.get("replay").get("bytesDone").asLong() / v.get("replay").get("bytesTotal").asLong() + "% "
                + Sizes.human(v.get("replay").get("bytesPerSecond").asLong()) + "/s");
        expected.put("OLDEST DIRTY WRITE", (f, v) -> v == null || v.get("oldestDirtyWriteMillis").isNull() ? "-"
                : java.time.Instant.ofEpochMilli(v.get("oldestDirtyWriteMillis").asLong()) + " (60s ago)");
        assertThat(expected.keySet()).as("every column of the table is checked here")
                .containsExactlyElementsOf(StatusCommand.COLUMNS.stream().map(StatusCommand.Column::header).toList());

        List<Map<String, String>> want = new ArrayList<>();
        for (JsonNode f : json) {
            List<JsonNode> volumes = new ArrayList<>();
            f.get("volumes").forEach(volumes::add);
            if (volumes.isEmpty()) {
                volumes.add(null);
            }
            for (JsonNode v : volumes) {
                Map<String, String> row = new LinkedHashMap<>();
                expected.forEach((header, cell) -> row.put(header, cell.apply(f, v)));
                want.add(row);
            }
        }
        assertThat(rows).containsExactlyElementsOf(want);
        assertThat(rows.get(0)).containsEntry("KAFKA", "UNREACHABLE").containsEntry("BACKLOG", "64");
        assertThat(render(status, false)).as("a long Kafka state is shown whole in a note")
                .contains("site-c: Kafka FAILED: partition count changed");
    }

    @Test
    void theLastVerifyIsShownAsANote() throws Exception {
        String doc = facility("site-a", "PRIMARY", "REPLICATING", true).replace("\"dirtyRegions\":0,",
                "\"dirtyRegions\":0,\"lastVerify\":{\"finishedMillis\":1764659704000,\"regionsChecked\":1024,\"regionsDiffering\":3,"
                        + "\"durationMillis\":900,\"by\":\"r1\"},");
        assertThat(table("[" + doc + "]")).contains("site-a/vol: last verified at 2025-12-02T07:15:04Z, 3 regions differed (by r1)");
        assertThat(table("[" + facility("site-a", "PRIMARY", "REPLICATING", true) + "]")).doesNotContain("last verified");
    }

    @Test
    void theStatusTopicViewDrawsTheSameTableOneRowPerNodeAndVolume() throws Exception {
        io.blockrep.replayer.status.VolumeStatus s = io.blockrep.replayer.status.StatusJson.read(("{\"volume\":\"vol1\","
                + "\"updatedMillis\":50000,\"nodes\":{\"site-a\":{\"role\":\"PRIMARY\",\"mode\":\"LOGGING\",\"modeReason\":\"link down\","
                + "\"era\":3,\"dirtyRegions\":2,\"dirtyBytes\":131072,\"oldestDirtyWriteMillis\":1000},"
                + "\"site-b\":{\"role\":\"SECONDARY\",\"mode\":\"SECONDARY\",\"dirtyRegions\":0,\"dirtyBytes\":0}},"
                + "\"replay\":{\"by\":\"r1\",\"era\":2,\"state\":\"REPLAY_PROGRESS\",\"bytesDone\":1,\"bytesTotal\":4,"
                + "\"bytesPerSecond\":2048,\"timeMillis\":40000}}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ArrayNode facilities = StatusCommand.facilities(List.of(s), 61_000);
        List<Map<String, String>> rows = parse(render(facilities, false));
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0)).containsEntry("NODE", "site-a").containsEntry("VOLUME", "vol1").containsEntry("ROLE", "PRIMARY")
                .containsEntry("MODE", "LOGGING").containsEntry("ERA", "3").containsEntry("DIRTY", "2")
                .containsEntry("DIRTY BYTES", Sizes.human(131072)).containsEntry("REPLAY", "25% " + Sizes.human(2048) + "/s")
                .containsEntry("LINK", "-").containsEntry("KAFKA", "-").containsEntry("BACKLOG", "-")
                .containsEntry("OLDEST DIRTY WRITE", java.time.Instant.ofEpochMilli(1000) + " (60s ago)");
        assertThat(rows.get(1)).containsEntry("NODE", "site-b").containsEntry("ROLE", "SECONDARY").containsEntry("DIRTY", "0")
                .containsEntry("ERA", "-").containsEntry("REPLAY", "-");
        assertThat(render(facilities, false)).contains("site-a/vol1: link down").doesNotContain("null");
        JsonNode json = new ObjectMapper().readTree(render(facilities, true));
        assertThat(json.get(0).get("volumes").get(0).get("dirtyBytes").asLong()).isEqualTo(131072);
    }
}
