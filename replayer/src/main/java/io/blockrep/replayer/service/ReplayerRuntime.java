package io.blockrep.replayer.service;

import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.Node;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.copy.CopyProgress;
import io.blockrep.replayer.copy.RateLimiter;
import io.blockrep.replayer.copy.ReplayedRegions;
import io.blockrep.replayer.copy.ReplicaTarget;
import io.blockrep.replayer.copy.SourceReader;
import io.blockrep.replayer.copy.VolumeCopier;
import io.blockrep.replayer.index.DirtySetIndex;
import io.blockrep.replayer.index.ReplayEvents;
import io.blockrep.replayer.index.Tombstoner;
import io.blockrep.replayer.metrics.ReplayerMetrics;
import io.blockrep.schemas.dlq.DeadLetters;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a replayer needs to copy, whether it runs as the service or as the one-shot ops job: Kafka
 * clients for tombstones and replay events, a control API client per node, a link reader per node
 * (made when the node is first a source), a link writer per volume and node (made when that node is
 * first the volume's target), one rate limiter over all volumes, and the {@link ReplayEngine}.
 *
 * <p>Thread-safety: the lazily made links are kept in concurrent maps; stepping follows the engine's rules.
 */
public final class ReplayerRuntime implements AutoCloseable, ReplayEngine.Nodes {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayerRuntime.class);
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final ReplayerConfig config;
    private final SharedSecret secret;
    private final Properties clientProperties;
    private final Tombstoner tombstoner;
    private final ReplayEvents events;
    private final ValueCodecs codecs;
    private final DeadLetters deadLetters;
    private final Map<String, FacilityClient> controls = new LinkedHashMap<>();
    private final Map<String, LinkSourceReader> sources = new ConcurrentHashMap<>();
    private final Map<String, LinkReplicaTarget> targets = new ConcurrentHashMap<>();
    private final ProgressReporter progressReports = new ProgressReporter();
    private final ReplayEngine engine;
    private final VolumeCopier copier;
    private volatile boolean closed;
    /** replayer.link.tls.*, null when plaintext. */
    private final LinkTls linkTls;
    /** The service's metrics; disabled for the ops verbs. */
    private final ReplayerMetrics metrics;

    private ReplayerRuntime(ReplayerConfig config, ReplayerMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.secret = SharedSecret.of(config.secret());
        this.linkTls = config.linkTls() == null ? null : LinkTls.of(config.linkTls());
        this.clientProperties = metrics.kafkaClientProperties(config.kafkaClientProperties());
        TopicLayout layout = new TopicLayout(config.topicPrefix());
        this.tombstoner = new Tombstoner(clientProperties, layout, Duration.ofSeconds(10));
        this.codecs = ValueCodecs.of(config.registry(), layout);
        this.events = new ReplayEvents(clientProperties, layout, config.id(), Clock.systemUTC(), codecs);
        this.deadLetters = new DeadLetters(clientProperties, layout.dlq(), "replayer", metrics::deadLettered);
        for (Node n : config.nodes().values()) {
            controls.put(n.id(), FacilityClient.of(n));
        }
        ReplayedRegions replayed = new ReplayedRegions() {
            @Override
            public CompletableFuture<Void> tombstone(String volume, String node, long era, RoaringBitmap regions) {
                // The source's facility records the regions as copied first (its final report then counts them even if
                // this process dies before reporting), then the keys are tombstoned: a copy started again skips both.
                try {
                    control(node).regionsCopied(volume, era, regions);
                } catch (RuntimeException e) {
                    LOG.debug("volume {}: recording copy progress at {} failed ({}); a restarted copy may copy these regions again",
                            volume, node, e.toString());
                }
                return tombstoner.tombstoneRegions(volume, node, era, regions).thenApply(n -> null);
            }

            @Override
            public CompletableFuture<Void> tombstoneMarker(String volume, String node, long era) {
                return tombstoner.tombstoneMarker(volume, node, era);
            }
        };
        VolumeCopier copier = new VolumeCopier(new VolumeCopier.Settings(config.maxExtentBytes(), config.dataSetBytes(),
                config.skipIdentical(), config.linkTimeout().toMillis()), replayed, RateLimiter.of(config.rateBytesPerSecond()));
        this.copier = copier;
        this.engine = new ReplayEngine(copier, replayed, this);
    }

    /** Allocates the copier's data set buffers ahead of the first copy; the service calls it once at start. */
    public void warmUp() {
        long t0 = System.nanoTime();
        copier.warmUp();
        LOG.debug("data set buffers allocated in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    public static ReplayerRuntime open(ReplayerConfig config) {
        return open(config, ReplayerMetrics.disabled());
    }

    /** As {@link #open(ReplayerConfig)}, reporting replays and Kafka clients to {@code metrics} (the service's). */
    public static ReplayerRuntime open(ReplayerConfig config, ReplayerMetrics metrics) {
        return new ReplayerRuntime(config, metrics);
    }

    /** Bootstrap servers plus the pass-through client settings. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        return p;
    }

    /** The value codecs: readers decode both formats; with a registry, writers use the Confluent wire format. */
    public ValueCodecs codecs() {
        return codecs;
    }

    /** Where readers of this replayer put records they cannot decode ({@code <prefix>dlq}). */
    public DeadLetters deadLetters() {
        return deadLetters;
    }

    /** The replay (and verify) event publisher. */
    public ReplayEvents events() {
        return events;
    }

    /** The control API client of {@code node}. */
    public FacilityClient control(String node) {
        FacilityClient c = controls.get(node);
        if (c == null) {
            throw new io.blockrep.common.InvalidInputException("node '" + node + "' is not in replayer.nodes");
        }
        return c;
    }

    @Override
    public SourceReader source(String volume, String node) {
        checkOpen();
        return sources.computeIfAbsent(node, n -> new LinkSourceReader(config.id(), config.node(n).link(), secret, config.linkTimeout(),
                linkTls));
    }

    @Override
    public ReplicaTarget target(String volume, String node) {
        checkOpen();
        return targets.computeIfAbsent(volume + "/" + node,
                k -> new LinkReplicaTarget(config.id(), config.node(node).link(), secret, config.linkTimeout(), linkTls));
    }

    @Override
    public void erasReplayed(String volume, String node, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied) {
        control(node).erasReplayed(volume, regionCountByEra, copied);
    }

    @Override
    public FacilityClient.FacilityEras eras(String volume, String node) {
        return control(node).eras(volume);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("replayer runtime " + config.id() + " is closed");
        }
    }

    /** One replay step for {@code v}, with progress events; returns the step or null when nothing was ready. */
    public ReplayEngine.Step step(DirtySetIndex index, VolumeNodes v) throws InterruptedException {
        return step(index, v, p -> { });
    }

    public ReplayEngine.Step step(DirtySetIndex index, VolumeNodes v, Consumer<CopyProgress> progress) throws InterruptedException {
        try {
            return reportedStep(index, v, progress);
        } finally {
            metrics.ended(v.volume());
        }
    }

    private ReplayEngine.Step reportedStep(DirtySetIndex index, VolumeNodes v, Consumer<CopyProgress> progress) throws InterruptedException {
        long[] lastEvent = {0};
        boolean[] started = {false};
        CopyProgress[] finalReport = {null};
        String[] source = {null};
        ReplayEngine.Step step = engine.step(index, v, (direction, p) -> {
            source[0] = direction.source();
            metrics.progress(v.volume(), direction.source(), p);
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
                    progressReports.report(v.volume(), control(direction.source()), p);
                }
            }
        });
        if (finalReport[0] != null) {
            progressReports.report(v.volume(), control(source[0]), finalReport[0]);
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
        closed = true;
        progressReports.close();
        targets.values().forEach(LinkReplicaTarget::close);
        sources.values().forEach(LinkSourceReader::close);
        events.close();
        tombstoner.close();
        deadLetters.close();
        LOG.debug("replayer runtime {} closed", config.id());
    }
}
