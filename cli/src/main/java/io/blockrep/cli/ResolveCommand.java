package io.blockrep.cli;

import io.blockrep.common.Sizes;
import io.blockrep.common.config.ControlTls;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.resolve.SplitBrainResolver;
import io.blockrep.replayer.resolve.SplitBrainResolver.Plan;
import io.blockrep.replayer.resolve.SplitBrainResolver.Stage;
import io.blockrep.replayer.service.FacilityClient;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code blockrep resolve VOLUME --primary NODE}: ends a split brain. Shows what will happen, asks
 * for confirmation, optionally saves the losing side's own changes, then makes the other side the
 * resync target of the chosen primary and replays the union of both sides' changes onto it (the
 * same job as {@code blockrep replay}). Every step can be repeated: an interrupted resolve is
 * finished by running the same command again.
 */
@Command(name = "resolve", mixinStandardHelpOptions = true,
        description = {"Resolve a split brain: keep NODE's copy, overwrite the other side's changes with it, and resync.",
            "Exit 0: resolved, the volume is REPLICATING from NODE; 1: not confirmed, nothing changed; 64: nothing to resolve "
                    + "or a bad argument; 75: a facility or Kafka is unreachable or the resync did not finish in time "
                    + "(run the same command again); 74: a fatal error."})
final class ResolveCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id.")
    String volume;

    @Option(names = "--primary", required = true, paramLabel = "NODE", description = "Node id of the side whose copy survives.")
    String primary;

    @Option(names = "--control", required = true, split = ",", paramLabel = "HOST:PORT",
            description = "Control APIs of both facilities (comma-separated or repeated).")
    List<String> controls;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "Replayer properties file (Kafka, link secret, nodes), as for blockrep replay.")
    Path config;

    @Option(names = "--save-discarded", paramLabel = "PATH",
            description = "First copy the losing side's own changed regions into a sparse image at PATH (same offsets).")
    Path saveDiscarded;

    @Option(names = "--yes", description = "Do not ask for confirmation.")
    boolean yes;

    @Option(names = "--timeout", defaultValue = "30m", paramLabel = "DURATION",
            description = "Give up waiting for the resync after this long (default: ${DEFAULT-VALUE}).")
    String timeout;

    @CommandLine.Mixin
    ControlTokenOption auth;

    /**
     * A --control address, with --token-file / BLOCKREP_CONTROL_TOKEN and --tls-* / BLOCKREP_CONTROL_TLS_*, else the token and
     * TLS settings of the configured node at that address.
     */
    private static FacilityClient client(ReplayerConfig cfg, String control, String token, ControlTls tls) {
        FacilityClient given = FacilityClient.of(control);
        return cfg.nodes().values().stream().filter(n -> n.control().equals(given.address())).findFirst()
                .map(FacilityClient::of).orElse(given).withToken(token).withTls(tls);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ReplayerConfig cfg = ReplayerConfig.load(config, System.getenv());
        List<FacilityClient> clients = controls.stream().map(c -> client(cfg, c, auth.token(), auth.tls())).toList();
        SplitBrainResolver resolver = new SplitBrainResolver(volume);
        Plan plan = resolver.plan(primary, clients);
        describe(out, plan);
        if (plan.stage() == Stage.FRESH && !yes && !confirmed(out)) {
            out.println("not confirmed; nothing changed");
            out.flush();
            return 1;
        }
        resolver.demoteLoser(plan);
        if (saveDiscarded != null && plan.stage() != Stage.DISCARDED) {
            long saved = resolver.saveDiscarded(plan, saveDiscarded);
            out.println("saved " + Sizes.human(saved) + " of " + plan.loser().node() + "'s changes to " + saveDiscarded.toAbsolutePath());
        }
        long merged = resolver.merge(plan);
        out.println(plan.survivor().node() + " now holds " + plan.loser().node() + "'s changed regions as dirty (" + merged + " new)");
        // With a mirror the loser's records may still be on their way here: the tombstoning waits for them (asked before the
        // discard forgets them). On one cluster the loser's facility published everything before the discard: nothing to wait for.
        org.roaringbitmap.RoaringBitmap loserRegions = cfg.mirror().policy().equals("none") ? new org.roaringbitmap.RoaringBitmap()
                : resolver.loserRegions(plan);
        resolver.discard(plan, Duration.ofMinutes(2));
        long tombstones = resolver.tombstoneLoser(plan, cfg.kafkaClientProperties(), io.blockrep.replayer.index.SourceTopics.of(cfg),
                loserRegions, cfg.mirror().catchupTimeout(), Duration.ofSeconds(60),
                ValueCodecs.of(cfg.registry(), new TopicLayout(cfg.topicPrefix())).readers());
        out.println(plan.loser().node() + " is SECONDARY at generation " + plan.common() + "; " + tombstones
                + " of its dirty record(s) tombstoned; resyncing from " + plan.survivor().node() + " ...");
        out.flush();
        int replay = new CommandLine(new ReplayCommand()).setCaseInsensitiveEnumValuesAllowed(true).setOut(out).setErr(spec.commandLine().getErr())
                .setExecutionExceptionHandler(spec.commandLine().getExecutionExceptionHandler())
                .execute(volume, "--config", config.toString(), "--timeout", timeout);
        if (replay == 0) {
            out.println("resolved: " + volume + " is REPLICATING from " + plan.survivor().node() + " to " + plan.loser().node());
            out.flush();
        }
        return replay;
    }

    private void describe(PrintWriter out, Plan plan) {
        out.printf(Locale.ROOT, "split brain of %s: %s survives, %s's changes are overwritten%n", volume, plan.survivor().node(),
                plan.loser().node());
        out.printf(Locale.ROOT, "  %s wrote %d region(s) (%s) since generation %s; they will be overwritten%s%n", plan.loser().node(),
                plan.loserRegions(), Sizes.human(plan.loserBytes()), plan.common(),
                saveDiscarded == null ? " (keep them with --save-discarded PATH)" : " after being saved to " + saveDiscarded);
        out.printf(Locale.ROOT, "  %s wrote %d region(s); the resync copies the union, %d region(s) (%s), from %s to %s%n",
                plan.survivor().node(), plan.survivorRegions(), plan.unionRegions(), Sizes.human(plan.unionBytes()),
                plan.survivor().node(), plan.loser().node());
        if (plan.stage() != Stage.FRESH) {
            out.println("  an earlier resolve got as far as: " + plan.stage() + "; going on from there");
        }
        out.flush();
    }

    private boolean confirmed(PrintWriter out) throws IOException {
        out.print("Type 'yes' to go on: ");
        out.flush();
        String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        return answer != null && answer.trim().equalsIgnoreCase("yes");
    }
}
