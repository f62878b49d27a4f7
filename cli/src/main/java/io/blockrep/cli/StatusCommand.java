package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.blockrep.common.Sizes;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import io.blockrep.replayer.status.StatusTable;
import io.blockrep.replayer.status.VolumeStatus;
import java.util.function.BiFunction;
import io.blockrep.replayer.service.FacilityClient;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep status}: every volume of one or more facilities, as a table or JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show role, mode, era, dirty regions and bytes, link and Kafka state, Kafka publish backlog and oldest dirty write of every volume.")
final class StatusCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811", split = ",",
            description = "Control API address of each facility (default: ${DEFAULT-VALUE}); repeat or comma-separate for several.")
    List<String> controls;

    @CommandLine.Mixin
    ControlTokenOption auth;

    @Option(names = "--json", description = "Print the facilities' status documents as a JSON array.")
    boolean json;

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT",
            description = "Read the status table (<prefix>status, written by the status app) from Kafka instead of asking the facilities' control APIs.")
    String bootstrap;

    @Option(names = "--topic-prefix", paramLabel = "P", defaultValue = io.blockrep.schemas.topic.TopicLayout.DEFAULT_PREFIX,
            description = "Topic prefix, with --bootstrap-server (default: ${DEFAULT-VALUE}).")
    String prefix;

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        if (bootstrap != null) {
            java.util.Properties client = new java.util.Properties();
            client.setProperty("bootstrap.servers", bootstrap);
            String topic;
            try {
                topic = new io.blockrep.schemas.topic.TopicLayout(prefix).status();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Map<String, VolumeStatus> table = StatusTable.read(client, topic, Duration.ofSeconds(30));
            render(spec.commandLine().getOut(), facilities(table.values(), System.currentTimeMillis()), json);
            return 0;
        }
        ArrayNode all = mapper.createArrayNode();
        String token = auth.token();
        io.blockrep.common.config.ControlTls tls = auth.tls();
        for (String c : controls) {
            all.add(FacilityClient.of(c, token).withTls(tls).get("/v1/status"));
        }
        render(spec.commandLine().getOut(), all, json);
        return 0;
    }

    /**
     * The status table as facility status documents, one per node (as the control API gives them), so
     * that the table and {@code --json} are drawn by the same code. Per volume: role, mode, era, dirty
     * regions and bytes, oldest dirty write; the replay in progress on the PRIMARY's row. The table has no
     * link state, Kafka state or publish backlog (those columns show '-').
     */
    static ArrayNode facilities(java.util.Collection<VolumeStatus> table, long nowMillis) {
        ObjectMapper mapper = new ObjectMapper();
        Map<String, ArrayNode> byNode = new java.util.TreeMap<>();
        for (VolumeStatus s : table) {
            s.nodes.forEach((node, n) -> {
                com.fasterxml.jackson.databind.node.ObjectNode v = byNode.computeIfAbsent(node, k -> mapper.createArrayNode()).addObject();
                v.put("volume", s.volume);
                putText(v, "role", n.role);
                putText(v, "mode", n.mode);
                putText(v, "modeReason", n.modeReason);
                if (n.era != null) {
                    v.put("era", n.era);
                }
                v.put("dirtyRegions", n.dirtyRegions);
                v.put("dirtyBytes", n.dirtyBytes);
                if (n.oldestDirtyWriteMillis != null) {
                    v.put("oldestDirtyWriteMillis", n.oldestDirtyWriteMillis);
                }
                if (s.replay != null && "PRIMARY".equals(n.role) && !"REPLAY_FINISHED".equals(s.replay.state)) {
                    v.set("replay", mapper.valueToTree(s.replay));
                }
                v.put("updatedMillis", s.updatedMillis);
            });
        }
        ArrayNode out = mapper.createArrayNode();
        byNode.forEach((node, volumes) -> out.addObject().put("node", node).put("timeMillis", nowMillis).put("source", "status-topic")
                .set("volumes", volumes));
        return out;
    }

    /** Absent rather than JSON null, so that a cell shows '-' and no note reads "null". */
    private static void putText(com.fasterxml.jackson.databind.node.ObjectNode v, String field, String text) {
        if (text != null) {
            v.put(field, text);
        }
    }

    /**
     * One column of the text table: its header and how a cell is drawn from the facility's and the
     * volume's status document (the volume is a missing node for a facility without volumes). Every
     * cell shows one field of {@code --json} (formatted), so the two views cannot disagree;
     * {@code StatusCommandTest} checks each column against the JSON.
     */
    record Column(String header, BiFunction<JsonNode, JsonNode, String> cell) {
    }

    static final List<Column> COLUMNS = List.of(
            new Column("NODE", (f, v) -> f.path("node").asText()),
            new Column("VOLUME", (f, v) -> v.path("volume").asText("-")),
            new Column("ROLE", (f, v) -> v.path("role").asText("-")),
            new Column("MODE", (f, v) -> v.path("mode").asText("-")),
            new Column("ERA", (f, v) -> v.has("era") ? Long.toString(v.path("era").asLong()) : "-"),
            new Column("DIRTY", (f, v) -> v.has("dirtyRegions") ? Long.toString(v.path("dirtyRegions").asLong()) : "-"),
            new Column("DIRTY BYTES", (f, v) -> v.has("dirtyBytes") ? Sizes.human(v.path("dirtyBytes").asLong()) : "-"),
            new Column("LINK", (f, v) -> f.path("link").asText("-")),
            new Column("KAFKA", (f, v) -> kafkaState(f.path("kafka").asText("-"))),
            new Column("BACKLOG", (f, v) -> f.has("kafkaBacklogRegions") ? Long.toString(f.path("kafkaBacklogRegions").asLong()) : "-"),
            new Column("GEN", (f, v) -> generation(v.path("generations"))),
            new Column("PEER", (f, v) -> v.path("peer").path("decision").asText("-")),
            new Column("REPLAY", (f, v) -> replay(v.path("replay"))),
            new Column("OLDEST DIRTY WRITE", StatusCommand::oldestDirtyWrite));

    /** The status documents as {@code --json} prints them (a JSON array), or as the text table. */
    static void render(PrintWriter out, ArrayNode facilities, boolean json) throws java.io.IOException {
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(facilities));
        } else {
            printTable(out, facilities);
        }
        out.flush();
    }

    static void printTable(PrintWriter out, JsonNode facilities) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(COLUMNS.stream().map(Column::header).toList());
        List<String> notes = new ArrayList<>();
        for (JsonNode f : facilities) {
            String kafka = f.path("kafka").asText("-");
            if (!kafka.equals(kafkaState(kafka))) {
                notes.add(f.path("node").asText() + ": Kafka " + kafka);
            }
            if (f.path("volumes").isEmpty()) {
                rows.add(row(f, com.fasterxml.jackson.databind.node.MissingNode.getInstance()));
            }
            for (JsonNode v : f.path("volumes")) {
                rows.add(row(f, v));
                volumeNotes(f, v, notes);
            }
        }
        int[] widths = new int[COLUMNS.size()];
        for (List<String> r : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], r.get(i).length());
            }
        }
        for (List<String> r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                line.append(i == widths.length - 1 ? r.get(i) : String.format("%-" + widths[i] + "s  ", r.get(i)));
            }
            out.println(line.toString().stripTrailing());
        }
        if (!notes.isEmpty()) {
            out.println();
            notes.forEach(out::println);
        }
        out.println();
        out.println("GEN: current generation (first 8 hex digits; '!' = inconsistent, a resync into it is under way). "
                + "PEER: SAME, LOCAL_NEWER, PEER_NEWER, SPLIT_BRAIN or UNRELATED. KAFKA: the dirty publisher's broker state; "
                + "BACKLOG: dirty regions whose record Kafka has not acknowledged yet (the bitmap is their outbox).");
    }

    private static List<String> row(JsonNode f, JsonNode v) {
        return COLUMNS.stream().map(c -> c.cell().apply(f, v)).toList();
    }

    private static void volumeNotes(JsonNode f, JsonNode v, List<String> notes) {
        String name = f.path("node").asText() + "/" + v.path("volume").asText();
        String initial = initialSync(v.path("initialSync"));
        if (initial != null) {
            notes.add(name + ": " + initial);
        }
        String verified = lastVerify(v.path("lastVerify"));
        if (verified != null) {
            notes.add(name + ": " + verified);
        }
        String async = asyncLag(v.path("async"));
        if (async != null) {
            notes.add(name + ": " + async);
        }
        String mode = v.path("mode").asText();
        if (!mode.equals("REPLICATING") && !mode.equals("SECONDARY") && !v.path("modeReason").asText().isEmpty()) {
            notes.add(name + ": " + v.path("modeReason").asText());
        }
        if (!v.path("generations").path("consistent").asBoolean(true)) {
            // Most often a SECONDARY being resynced, whose mode alone says nothing about its data.
            notes.add(name + ": INCONSISTENT copy (a resync into it"
                    + " has not finished; it holds a mix of old and new data); promote refuses it without --force");
        }
        if (mode.equals("SPLIT_BRAIN")) {
            notes.add(name + ": " + v.path("dirtyRegions").asLong()
                    + " region(s), " + Sizes.human(v.path("dirtyBytes").asLong()) + " written here since the common generation");
        }
    }

    /** REACHABLE, UNREACHABLE, DISABLED; the first word of a longer state (RESTARTING, FAILED), which a note shows in full. */
    static String kafkaState(String kafka) {
        int cut = kafka.indexOf(' ');
        String word = cut < 0 ? kafka : kafka.substring(0, cut);
        return word.endsWith(":") ? word.substring(0, word.length() - 1) : word;
    }

    /** The current generation's first 8 hex digits, '!' appended when the copy is inconsistent. */
    private static String generation(JsonNode g) {
        String gen = g.path("current").asText("-");
        gen = gen.length() > 8 ? gen.substring(0, 8) : gen;
        return g.path("consistent").asBoolean(true) ? gen : gen + "!";
    }

    private static String oldestDirtyWrite(JsonNode f, JsonNode v) {
        JsonNode oldest = v.path("oldestDirtyWriteMillis");
        if (!oldest.isNumber()) {
            return "-";
        }
        long now = f.path("timeMillis").asLong();
        return Instant.ofEpochMilli(oldest.asLong()) + " (" + human(Duration.ofMillis(now - oldest.asLong())) + " ago)";
    }

    /** "last verified at 2026-12-02T07:15:04Z, 1 region differed (by r1)", or null before the first verify. */
    static String lastVerify(JsonNode r) {
        if (!r.isObject()) {
            return null;
        }
        long differing = r.path("regionsDiffering").asLong();
        return "last verified at " + Instant.ofEpochMilli(r.path("finishedMillis").asLong()) + ", " + differing
                + (differing == 1 ? " region differed" : " regions differed") + " (by " + r.path("by").asText("?") + ")";
    }

    /** "async lag 1.2 MiB in 300 write(s), oldest 0.4s; high-water 8.0 MiB of 64.0 MiB; overflow forced LOGGING 0 time(s)", or null for a sync volume. */
    static String asyncLag(JsonNode a) {
        if (!a.isObject()) {
            return null;
        }
        return "async lag " + Sizes.human(a.path("lagBytes").asLong()) + " in " + a.path("lagWrites").asLong() + " write(s), oldest "
                + String.format(java.util.Locale.ROOT, "%.1fs", a.path("lagSeconds").asDouble()) + "; high-water "
                + Sizes.human(a.path("highWaterBytes").asLong()) + " of " + Sizes.human(a.path("queueCapBytes").asLong())
                + "; overflow forced LOGGING " + a.path("overflowLogging").asLong() + " time(s)";
    }

    /** "45% 120.0 MiB/s" for a replay in progress, "-" otherwise. */
    private static String replay(JsonNode r) {
        if (!r.isObject() || r.path("bytesTotal").asLong() == 0) {
            return "-";
        }
        long pct = 100 * r.path("bytesDone").asLong() / r.path("bytesTotal").asLong();
        return pct + "% " + Sizes.human(r.path("bytesPerSecond").asLong()) + "/s";
    }

    /** "initial sync 45%: 563 of 1024 region(s) left, ETA 2m" (RUNNING), a PENDING note, or null when there is none. */
    static String initialSync(JsonNode s) {
        if (!s.isObject()) {
            return null;
        }
        if (s.path("phase").asText().equals("PENDING")) {
            return "initial sync pending: the regions holding data are copied when the volume is first run with a peer";
        }
        JsonNode eta = s.path("etaSeconds");
        return "initial sync " + s.path("percent").asInt() + "%: " + s.path("remainingRegions").asLong() + " of "
                + s.path("regions").asLong() + " region(s) left, ETA " + (eta.isNumber() ? human(Duration.ofSeconds(eta.asLong())) : "unknown");
    }

    private static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s < 120 ? s + "s" : s < 7200 ? (s / 60) + "m" : (s / 3600) + "h";
    }
}
