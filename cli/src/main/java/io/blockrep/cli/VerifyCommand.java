package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.CurrentPrimary;
import io.blockrep.replayer.service.FacilityClient;
import io.blockrep.replayer.verify.VerifyLinks;
import io.blockrep.replayer.verify.VolumeVerifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code blockrep verify VOLUME}: finds the volume's current primary by asking both of its nodes,
 * compares it with the replica on the other node region by region by SHA-256 with {@link VolumeVerifier}
 * (the engine the replayer service's scheduled verify uses) — each facility hashes its own copy and
 * answers over the link, so only digests cross the network — records the result in the primary's
 * status ("last verified at ..."), marks differing
 * regions dirty on the primary (which then resyncs them) and reports how many differ. Exit 0 when
 * none differ, 1 when some did (they are now dirty), as cmp(1) does.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compare the primary and its replica region by region by hash; mark differing regions dirty and report them.",
            "Exit 0: identical; 1: some regions differed and were marked dirty (the replayer repairs them)."})
final class VerifyCommand implements Callable<Integer> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(VerifyCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id (listed in the replayer configuration).")
    String volume;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "Replayer properties file.")
    Path config;

    @Option(names = "--dry-run", description = "Report differences without marking them dirty.")
    boolean dryRun;

    @Override
    public Integer call() {
        ReplayerConfig cfg = ReplayerConfig.load(config, System.getenv());
        CurrentPrimary current = CurrentPrimary.find(cfg, volume);
        FacilityClient primary = FacilityClient.of(current.primary());
        JsonNode status = current.status();
        RegionGeometry geometry = new RegionGeometry(status.path("size").asLong(), status.path("regionSize").asInt());
        PrintWriter out = spec.commandLine().getOut();
        VolumeVerifier.Result result;
        try (VerifyLinks links = VerifyLinks.open(cfg, current.primary(), current.peer(), volume, geometry)) {
            result = VolumeVerifier.unlimited().compare(volume, geometry, links.source(), links.replica(), () -> false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.blockrep.common.RetriableException("verify of " + volume + " interrupted");
        }
        List<Long> differing = result.differing();
        tellFacility(primary, result, cfg.id());
        if (differing.isEmpty()) {
            out.printf("%s: all %d regions identical on %s (primary) and %s%n", volume, geometry.regionCount(), current.primary().id(),
                    current.peer().id());
            out.flush();
            return 0;
        }
        out.printf("%s: %d of %d regions differ between %s (primary) and %s%s: %s%n", volume, differing.size(), geometry.regionCount(),
                current.primary().id(), current.peer().id(), dryRun ? "" : " and are now marked dirty", abbreviate(differing));
        if (!dryRun) {
            long marked = primary.markDiffering(volume, differing);
            out.printf("%d newly marked; the replayer copies them (blockrep status; blockrep replay %s)%n", marked, volume);
        }
        out.flush();
        return 1;
    }

    /** Best effort: the primary's status shows "last verified at ..." (an older facility without the call is left alone). */
    private static void tellFacility(FacilityClient primary, VolumeVerifier.Result result, String by) {
        try {
            primary.verified(result.volume(), System.currentTimeMillis(), result.regionsChecked(), result.differing().size(),
                    result.durationMillis(), by);
        } catch (io.blockrep.common.BlockrepException e) {
            LOG.debug("could not record the verify result on {}: {}", primary.address(), e.getMessage());
        }
    }

    private static String abbreviate(List<Long> regions) {
        List<Long> head = regions.subList(0, Math.min(20, regions.size()));
        return head + (regions.size() > head.size() ? " ..." : "");
    }
}
