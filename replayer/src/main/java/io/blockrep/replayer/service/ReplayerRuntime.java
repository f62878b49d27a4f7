package io.blockrep.replayer.service;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.VolumeTarget;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.copy.RateLimiter;
import io.blockrep.replayer.copy.ReplayedRegions;
import io.blockrep.replayer.copy.ReplicaTarget;
import io.blockrep.replayer.copy.VolumeCopier;
import io.blockrep.replayer.index.DirtySetIndex;
import io.blockrep.replayer.index.ReplayEvents;
import io.blockrep.replayer.index.Tombstoner;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a replayer needs to copy, whether it runs as the service or as the one-shot ops job: Kafka
 * clients for tombstones and replay events, a link to each volume's secondary, a client of each
 * primary's control API, one rate limiter over all volumes, and the {@link ReplayEngine}.
 */
public final class ReplayerRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayerRuntime.class);
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final ReplayerConfig config;
    private final Properties clientProperties;
    private final Tombstoner tombstoner;
    private final ReplayEvents events;
    private final Map<String, LinkReplicaTarget> targets = new LinkedHashMap<>();
    private final Map<String, FacilityClient> primaries = new LinkedHashMap<>();
    private final ProgressReporter progressReports = new ProgressReporter();
    private final ReplayEngine engine;

    private ReplayerRuntime(ReplayerConfig config) {
        this.config = config;
        this.clientProperties = new Properties();
        clientProperties.putAll(config.clientProperties());
        clientProperties.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        TopicLayout layout = new TopicLayout(config.topicPrefix());
        this.tombstoner = new Tombstoner(clientProperties, layout, Duration.ofSeconds(10));
        this.events = new ReplayEvents(clientProperties, layout, config.id(), Clock.systemUTC());
        for (VolumeTarget v : config.volumes()) {
            targets.put(v.volume(), new LinkReplicaTarget(config.id(), v.target(), config.secret(), config.linkTimeout()));
            primaries.put(v.volume(), new FacilityClient(v.control()));
        }
        ReplayedRegions replayed = new ReplayedRegions() {
            @Override
            public CompletableFuture<Void> tombstone(String volume, String node, long era, RoaringBitmap regions) {
                return tombstoner.tombstoneRegions(volume, node, era, regions).thenApply(n -> null);
            }

            @Override
            public CompletableFuture<Void> tombstoneMarker(String volume, String node, long era) {
                return tombstoner.tombstoneMarker(volume, node, era);
            }
        };
        ReplicaTarget byVolume = new ReplicaTarget() {
            @Override
            public void attach(String volume, io.blockrep.common.volume.RegionGeometry geometry) {
                targets.get(volume).attach(volume, geometry);
            }

            @Override
            public java.util.concurrent.CompletionStage<Void> sendDataSet(String volume, long setId, java.util.List<ExtentData> extents) {
                return targets.get(volume).sendDataSet(volume, setId, extents);
            }

            @Override
            public java.util.concurrent.CompletionStage<java.util.List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
                return targets.get(volume).hashes(volume, offset, length, blockSize);
            }

            @Override
            public java.util.concurrent.CompletionStage<java.util.List<java.util.List<byte[]>>> hashes(String volume,
                    java.util.List<long[]> ranges, int blockSize) {
                return targets.get(volume).hashes(volume, ranges, blockSize);
            }
        };
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(config.maxExtentBytes(), config.dataSetBytes(),
                config.skipIdentical(), config.linkTimeout().toMillis()), byVolume, replayed, RateLimiter.of(config.rateBytesPerSecond()));
        this.engine = new ReplayEngine(copier, replayed);
    }

    public static ReplayerRuntime open(ReplayerConfig config) {
        return new ReplayerRuntime(config);
    }

    /** Bootstrap servers plus the pass-through client settings. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        return p;
    }

    public FacilityClient primary(String volume) {
        return primaries.get(volume);
    }

    /** One replay step for {@code v}, with progress events; returns the step or null when nothing was ready. */
    public ReplayEngine.Step step(DirtySetIndex index, VolumeTarget v) throws InterruptedException {
        return step(index, v, p -> { });
    }

    public ReplayEngine.Step step(DirtySetIndex index, VolumeTarget v, Consumer<CopyProgress> progress) throws InterruptedException {
        long[] lastEvent = {0};
        boolean[] started = {false};
        CopyProgress[] finalReport = {null};
        ReplayEngine.Step step = engine.step(index, v, primaries.get(v.volume()), p -> {
            progress.accept(p);
            ReplayEvents.Progress figures = new ReplayEvents.Progress(p.bytesCopied(), p.bytesTotal(), p.regionsSkipped(), p.bytesPerSecond());
            if (!started[0]) {
                started[0] = true;
                events.started(v.volume(), p.era(), figures);
            }
            long now = System.nanoTime();
            if (now - lastEvent[0] >= PROGRESS_EVERY_NANOS || p.bytesCopied() >= p.bytesTotal()) {
                lastEvent[0] = now;
                events.progress(v.volume(), p.era(), figures);
                if (p.bytesCopied() >= p.bytesTotal()) {
                    finalReport[0] = p; // after the step's 'replayed' call, which must not queue behind it
                } else {
                    progressReports.report(v.volume(), primaries.get(v.volume()), p);
                }
            }
        });
        if (finalReport[0] != null) {
            progressReports.report(v.volume(), primaries.get(v.volume()), finalReport[0]);
        }
        if (step != null && step.progress() != null) {
            CopyProgress p = step.progress();
            events.finished(v.volume(), step.era(), new ReplayEvents.Progress(p.bytesCopied(), p.bytesTotal(), p.regionsSkipped(),
                    p.bytesPerSecond()));
        }
        return step;
    }

    @Override
    public void close() {
        progressReports.close();
        for (LinkReplicaTarget t : targets.values()) {
            t.close();
        }
        events.close();
        tombstoner.close();
        LOG.debug("replayer runtime {} closed", config.id());
    }
}
