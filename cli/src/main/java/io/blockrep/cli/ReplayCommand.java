package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.RetriableException;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.replayer.index.MirrorCatchup;
import io.blockrep.replayer.index.MirrorLag;
import io.blockrep.replayer.index.SourceTopics;
import io.blockrep.replayer.index.ReplayerGroup;
import io.blockrep.replayer.service.CurrentPrimary;
import io.blockrep.replayer.service.FacilityClient;
import io.blockrep.replayer.service.ReplayerRuntime;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code blockrep replay VOLUME}: the on-demand ops job. Finds the volume's current primary by asking
 * both of its nodes, rebuilds the dirty set from the dirty topic, approves the resync if the volume
 * waits for it, copies era after era (from whichever node's closed eras are ready, as the service
 * does) with a progress bar until the primary reports REPLICATING. When a replayer service owns the
 * volume (its group member is assigned the volume's dirty partition), the service copies and this
 * job follows its progress instead. Exit 0 then; 75 when the link to the secondary is down
 * or the time limit passed (retry later); 74 on a fatal error.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a volume now, in the foreground, with a progress bar; exits 0 once it is REPLICATING."})
final class ReplayCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id (listed in the replayer configuration).")
    String volume;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "Replayer properties file.")
    Path config;

    @Option(names = "--timeout", defaultValue = "30m", paramLabel = "DURATION",
            description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--no-approve", description = "Do not approve a volume in AWAITING_APPROVAL; fail instead.")
    boolean noApprove;

    @Option(names = "--full", description = "Copy every region, not only the dirty ones: for a replica that is unrelated to "
            + "the primary (no common generation) or not trusted. The peer must be SECONDARY; its own changes are dropped.")
    boolean full;

    @Option(names = "--progress", defaultValue = "AUTO", paramLabel = "STYLE",
            description = "bar: redraw a progress bar in place; plain: a progress line every "
                    + "5 s (for logs and pipes); auto: bar when the output is a terminal (default: ${DEFAULT-VALUE}).")
    ProgressBar.Style progress;

    @Override
    public Integer call() throws InterruptedException {
        ReplayerConfig cfg = ReplayerConfig.load(config, System.getenv());
        VolumeNodes v = cfg.volume(volume);
        CurrentPrimary current = CurrentPrimary.find(cfg, volume);
        Duration limit = io.blockrep.common.config.ConfigType.durationOf(timeout);
        PrintWriter out = spec.commandLine().getOut();
        long deadline = System.nanoTime() + limit.toNanos();
        ProgressBar bar = ProgressBar.forOutput(out, progress);
        TopicLayout layout = new TopicLayout(cfg.topicPrefix());
        Optional<String> service = ReplayerGroup.ownerOf(cfg.kafkaClientProperties(), cfg.groupId(), layout.dirty(), volume,
                Duration.ofSeconds(10));
        if (service.isPresent()) {
            // A running service copies this volume anyway, from a warm process: follow it instead of copying twice.
            FacilityClient primary = FacilityClient.of(current.primary());
            bar.line(volume + " is replayed by the replayer service " + service.get() + " (replayer.id and host); following its progress");
            if (full) {
                fullCopy(primary, FacilityClient.of(current.peer()), current, bar);
            }
            return untilReplicating(primary, current, bar, deadline, status -> {
                showServiceProgress(status.path("replay"), bar);
                Thread.sleep(100);
            });
        }
        try (ReplayerRuntime runtime = ReplayerRuntime.open(cfg);
             DirtyTopicReader reader = new DirtyTopicReader(runtime.clientProperties(), SourceTopics.of(cfg), runtime.codecs().readers(),
                     runtime.deadLetters())) {
            FacilityClient primary = runtime.control(current.primary().id());
            List<Integer> partitions = reader.partitions(Duration.ofSeconds(30));
            int partition = TopicLayout.partitionFor(volume, partitions.size());
            reader.rebuild(List.of(partition), Duration.ofSeconds(60));
            if (full) {
                fullCopy(primary, runtime.control(current.peer().id()), current, bar);
            }
            // The primary's closed eras must reach this cluster (through MirrorMaker when it publishes to the other site's).
            SourceTopics topics = SourceTopics.of(cfg);
            MirrorCatchup catchup = new MirrorCatchup(cfg.mirror().catchupTimeout(), System::nanoTime,
                    () -> MirrorLag.describe(runtime.clientProperties(), topics, java.time.Clock.systemUTC(), Duration.ofSeconds(5)));
            return untilReplicating(primary, current, bar, deadline, status -> {
                reader.poll(Duration.ofMillis(100));
                if (!topics.mirroredDirty().isEmpty() && java.util.Set.of("RESYNCING", "CUTOVER").contains(status.path("mode").asText())) {
                    catchup.check(reader.index(), volume, current.primary().id(), primary.eras(volume).pending());
                }
                runtime.step(reader.index(), v, bar::update);
            });
        }
    }

    /** One round of the wait for REPLICATING: copy what is ready, or watch the service do it. */
    private interface Step {
        void run(JsonNode status) throws InterruptedException;
    }

    /** Polls the primary until the volume is REPLICATING (0), approving it on the way; {@code step} between polls. */
    private int untilReplicating(FacilityClient primary, CurrentPrimary current, ProgressBar bar, long deadline, Step step)
            throws InterruptedException {
        String lastMode = "";
        while (true) {
            JsonNode status = primary.volumeStatus(volume);
            String mode = status.path("mode").asText();
            if (!mode.equals(lastMode)) {
                bar.line(volume + ": " + mode + ", " + status.path("dirtyRegions").asLong() + " dirty region(s)");
                lastMode = mode;
            }
            switch (mode) {
                case "REPLICATING" -> {
                    bar.line(volume + " is REPLICATING: the replica is in sync");
                    return 0;
                }
                case "AWAITING_APPROVAL" -> {
                    if (noApprove) {
                        throw new RetriableException(volume + " waits for approval (run without --no-approve, or blockrep approve)");
                    }
                    primary.approve(volume);
                }
                case "SPLIT_BRAIN" -> {
                    // Still split when the generations say so; a resolve in progress has moved the peer behind already.
                    if ("SPLIT_BRAIN".equals(status.path("peer").path("decision").asText())) {
                        throw new io.blockrep.common.InvalidInputException(volume + " is in SPLIT_BRAIN: both sides took writes since "
                                + "their last common generation and nothing is copied; choose the surviving copy with "
                                + "blockrep resolve " + volume + " --primary NODE (see blockrep status)");
                    }
                }
                case "SECONDARY", "STANDALONE" -> throw new io.blockrep.common.InvalidInputException(
                        volume + " is " + mode + " on " + current.primary().id() + " (" + primary.address()
                                + "); replay needs a primary with a peer");
                default -> {
                    // LOGGING (link not healthy yet), RESYNCING, CUTOVER: copy what is ready.
                }
            }
            if (System.nanoTime() > deadline) {
                throw new RetriableException(volume + " is still " + mode + " after " + timeout
                        + (mode.equals("LOGGING") ? " (is the link to " + current.peer().id() + " up? see blockrep status)" : ""));
            }
            step.run(status);
        }
    }

    /** The service's last progress report, as the facility shows it in status. */
    private void showServiceProgress(JsonNode replay, ProgressBar bar) {
        if (replay.isMissingNode() || replay.isNull()) {
            return;
        }
        long done = replay.path("bytesDone").asLong();
        long rate = replay.path("bytesPerSecond").asLong();
        bar.update(new CopyProgress(volume, replay.path("era").asLong(), replay.path("bytesTotal").asLong(), done, 0, 0,
                replay.path("regionsSkipped").asLong(), rate <= 0 ? 0 : (long) (done * 1e9 / rate)));
    }

    /**
     * Marks every region dirty on the primary and lets the peer take the primary's generation: the
     * resync copies everything. Started again after the job died (kill -9 at 50%, say), it resumes: when
     * every region is dirty on the primary already, marking them again would only put them in a new era
     * and copy the whole volume once more, so the copy goes on from its last acknowledged data set (the
     * replica's regions are tombstoned in the dirty topic and recorded at the primary as they are applied).
     */
    private void fullCopy(FacilityClient primary, FacilityClient peer, CurrentPrimary current, ProgressBar bar) {
        JsonNode target = peer.volumeStatus(volume);
        if (!"SECONDARY".equals(target.path("role").asText())) {
            throw new io.blockrep.common.InvalidInputException(volume + " is " + target.path("role").asText() + " on "
                    + current.peer().id() + "; a full copy overwrites a SECONDARY only (demote it first)");
        }
        JsonNode source = primary.volumeStatus(volume);
        long regionSize = source.path("regionSize").asLong();
        long regions = (source.path("size").asLong() + regionSize - 1) / regionSize;
        long dirty = primary.dirtyRegions(volume).path("regions").asLong();
        boolean resume = dirty >= regions;
        if (!resume) {
            primary.markAllForFullCopy(volume, regions);
        }
        String generation = primary.volumeStatus(volume).path("generations").path("current").asText();
        if (!generation.equals(peer.volumeStatus(volume).path("generations").path("current").asText())) {
            peer.adoptForFullCopy(volume, generation, current.primary().id());
        }
        bar.line((resume ? "full copy resumes: every region of " + volume + " is still dirty on " + current.primary().id()
                + "; the regions the replica acknowledged already are not copied again, the rest are copied to "
                : "full copy: all " + regions + " region(s) of " + volume + " are copied from " + current.primary().id() + " to ")
                + current.peer().id());
    }
}
