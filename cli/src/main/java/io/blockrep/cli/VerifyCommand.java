package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.CurrentPrimary;
import io.blockrep.replayer.service.FacilityClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code blockrep verify VOLUME}: finds the volume's current primary by asking both of its nodes,
 * compares it with the replica on the other node region by region by SHA-256 — each facility hashes
 * its own copy and answers over the link, so only digests cross the network — marks differing
 * regions dirty on the primary (which then resyncs them) and reports how many differ. Exit 0 when
 * none differ, 1 when some did (they are now dirty), as cmp(1) does.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compare the primary and its replica region by region by hash; mark differing regions dirty and report them.",
            "Exit 0: identical; 1: some regions differed and were marked dirty (the replayer repairs them)."})
final class VerifyCommand implements Callable<Integer> {
    /** Hash requests of at most this many bytes (the link allows 65,536 blocks and 256 MiB per request). */
    private static final long CHUNK_BYTES = 64L << 20;

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
        List<Long> differing = new ArrayList<>();
        SharedSecret secret = SharedSecret.of(cfg.secret());
        List<LinkMessage.VolumeInfo> attach = List.of(new LinkMessage.VolumeInfo(volume, geometry.size(), geometry.regionSize(),
                Role.PRIMARY, List.of()));
        io.blockrep.common.link.LinkTls tls = cfg.linkTls() == null ? null : io.blockrep.common.link.LinkTls.of(cfg.linkTls());
        try (LinkClient source = new LinkClient(cfg.id(), current.primary().link(), secret, List.of(), cfg.linkTimeout(), tls);
             LinkClient replica = new LinkClient(cfg.id(), current.peer().link(), secret, attach, cfg.linkTimeout(), tls)) {
            long chunk = Math.max(geometry.regionSize(), CHUNK_BYTES / geometry.regionSize() * geometry.regionSize());
            for (long offset = 0; offset < geometry.size(); offset += chunk) {
                long length = Math.min(chunk, geometry.size() - offset);
                List<byte[]> local = source.hashes(volume, offset, length, geometry.regionSize());
                List<byte[]> remote = replica.hashes(volume, offset, length, geometry.regionSize());
                for (int i = 0; i < local.size(); i++) {
                    if (i >= remote.size() || !Arrays.equals(local.get(i), remote.get(i))) {
                        differing.add(geometry.regionOf(offset) + i);
                    }
                }
            }
        }
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

    private static String abbreviate(List<Long> regions) {
        List<Long> head = regions.subList(0, Math.min(20, regions.size()));
        return head + (regions.size() > head.size() ? " ..." : "");
    }
}
