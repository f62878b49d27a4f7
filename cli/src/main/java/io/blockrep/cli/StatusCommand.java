package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.blockrep.common.Sizes;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import io.blockrep.replayer.service.FacilityClient;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep status}: every volume of one or more facilities, as a table or JSON. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show role, mode, era, dirty regions and bytes, link state and oldest dirty write of every volume.")
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

    @Override
    public Integer call() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode all = mapper.createArrayNode();
        String token = auth.token();
        io.blockrep.common.config.ControlTls tls = auth.tls();
        for (String c : controls) {
            all.add(FacilityClient.of(c, token).withTls(tls).get("/v1/status"));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        } else {
            printTable(out, all);
        }
        out.flush();
        return 0;
    }

    static void printTable(PrintWriter out, JsonNode facilities) {
        out.printf("%-10s %-16s %-9s %-17s %13s %8s %11s  %-11s %-8s %-11s %-20s %s%n",
                "NODE", "VOLUME", "ROLE", "MODE", "ERA", "DIRTY", "DIRTY BYTES", "LINK", "GEN", "PEER", "REPLAY", "OLDEST DIRTY WRITE");
        List<String> notes = new java.util.ArrayList<>();
        for (JsonNode f : facilities) {
            long now = f.path("timeMillis").asLong();
            for (JsonNode v : f.path("volumes")) {
                JsonNode oldest = v.path("oldestDirtyWriteMillis");
                String age = oldest.isNumber()
                        ? Instant.ofEpochMilli(oldest.asLong()) + " (" + human(Duration.ofMillis(now - oldest.asLong())) + " ago)"
                        : "-";
                String gen = v.path("generations").path("current").asText("-");
                gen = gen.length() > 8 ? gen.substring(0, 8) : gen;
                boolean consistent = v.path("generations").path("consistent").asBoolean(true);
                if (!consistent) {
                    gen += "!";
                }
                out.printf("%-10s %-16s %-9s %-17s %13d %8d %11s  %-11s %-8s %-11s %-20s %s%n", f.path("node").asText(), v.path("volume").asText(),
                        v.path("role").asText(), v.path("mode").asText(), v.path("era").asLong(), v.path("dirtyRegions").asLong(),
                        Sizes.human(v.path("dirtyBytes").asLong()), f.path("link").asText(), gen,
                        v.path("peer").path("decision").asText("-"), replay(v.path("replay")), age);
                String initial = initialSync(v.path("initialSync"));
                if (initial != null) {
                    notes.add(f.path("node").asText() + "/" + v.path("volume").asText() + ": " + initial);
                }
                String verified = lastVerify(v.path("lastVerify"));
                if (verified != null) {
                    notes.add(f.path("node").asText() + "/" + v.path("volume").asText() + ": " + verified);
                }
                String mode = v.path("mode").asText();
                if (!mode.equals("REPLICATING") && !mode.equals("SECONDARY") && !v.path("modeReason").asText().isEmpty()) {
                    notes.add(f.path("node").asText() + "/" + v.path("volume").asText() + ": " + v.path("modeReason").asText());
                }
                if (!consistent) {
                    // Most often a SECONDARY being resynced, whose mode alone says nothing about its data.
                    notes.add(f.path("node").asText() + "/" + v.path("volume").asText() + ": INCONSISTENT copy (a resync into it"
                            + " has not finished; it holds a mix of old and new data); promote refuses it without --force");
                }
                if (mode.equals("SPLIT_BRAIN")) {
                    notes.add(f.path("node").asText() + "/" + v.path("volume").asText() + ": " + v.path("dirtyRegions").asLong()
                            + " region(s), " + Sizes.human(v.path("dirtyBytes").asLong()) + " written here since the common generation");
                }
            }
        }
        if (!notes.isEmpty()) {
            out.println();
            notes.forEach(out::println);
        }
        out.println();
        out.println("GEN: current generation (first 8 hex digits; '!' = inconsistent, a resync into it is under way). "
                + "PEER: SAME, LOCAL_NEWER, PEER_NEWER, SPLIT_BRAIN or UNRELATED.");
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
