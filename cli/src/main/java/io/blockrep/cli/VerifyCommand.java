package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.BlockHashes;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.VolumeTarget;
import io.blockrep.replayer.service.FacilityClient;
import java.io.IOException;
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
 * {@code blockrep verify VOLUME}: compares the source and the replica region by region by SHA-256
 * over the link, marks differing regions dirty on the primary (which then resyncs them) and reports
 * how many differ. Exit 0 when none differ, 1 when some did (they are now dirty), as cmp(1) does.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Compare source and replica region by region by hash; mark differing regions dirty and report them.",
            "Exit 0: identical; 1: some regions differed and were marked dirty (the replayer repairs them)."})
final class VerifyCommand implements Callable<Integer> {
    /** Hash requests of at most this many regions (the link allows 65,536 blocks and 256 MiB per request). */
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
        VolumeTarget v = cfg.volume(volume);
        FacilityClient primary = new FacilityClient(v.control());
        JsonNode status = primary.volumeStatus(volume);
        if (!"PRIMARY".equals(status.path("role").asText())) {
            throw new InvalidInputException(volume + " is not PRIMARY on " + v.control() + "; verify runs against the primary");
        }
        RegionGeometry geometry = new RegionGeometry(status.path("size").asLong(), status.path("regionSize").asInt());
        PrintWriter out = spec.commandLine().getOut();
        List<Long> differing = new ArrayList<>();
        VolumeMetadata meta = new VolumeMetadata(volume, v.source(), geometry, Role.PRIMARY);
        List<LinkMessage.VolumeInfo> attach = List.of(new LinkMessage.VolumeInfo(volume, geometry.size(), geometry.regionSize(),
                Role.PRIMARY, List.of()));
        try (Volume source = Volume.open(meta, true);
             LinkClient link = new LinkClient(cfg.id(), v.target(), SharedSecret.of(cfg.secret()), attach, cfg.linkTimeout())) {
            long chunk = Math.max(geometry.regionSize(), CHUNK_BYTES / geometry.regionSize() * geometry.regionSize());
            for (long offset = 0; offset < geometry.size(); offset += chunk) {
                long length = Math.min(chunk, geometry.size() - offset);
                List<byte[]> local = BlockHashes.of(source, offset, length, geometry.regionSize());
                List<byte[]> remote = link.hashes(volume, offset, length, geometry.regionSize());
                for (int i = 0; i < local.size(); i++) {
                    if (i >= remote.size() || !Arrays.equals(local.get(i), remote.get(i))) {
                        differing.add(geometry.regionOf(offset) + i);
                    }
                }
            }
        } catch (IOException e) {
            throw new FatalException("cannot read the source " + v.source() + ": " + e.getMessage(), e);
        }
        if (differing.isEmpty()) {
            out.printf("%s: all %d regions identical on source and replica%n", volume, geometry.regionCount());
            out.flush();
            return 0;
        }
        out.printf("%s: %d of %d regions differ%s: %s%n", volume, differing.size(), geometry.regionCount(),
                dryRun ? "" : " and are now marked dirty", abbreviate(differing));
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
