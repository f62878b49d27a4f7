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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
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
 * first the volume's target), one rate limiter over all volumes ({@code replayer.rate}), one copier per
 * volume copied at once ({@code replayer.copy.concurrency}), and the {@link ReplayEngine}.
 *
 * <p>Targets are bounded: past twice the copy concurrency (8 at least), the least recently used ones
 * of volumes not being copied are closed after each finished step (a later step reconnects).
 *
 * <p>Thread-safety: the lazily made links are kept in concurrent maps, targets made and closed under
 * one lock; stepping follows the engine's rules.
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
    /** Guards making, using and closing targets against each other (see {@link #trimTargets}). */
    private final Object targetsLock = new Object();
    /** When each target was last handed out (nano time). */
    private final Map<String, Long> targetUsed = new ConcurrentHashMap<>();
    /** Volumes a step runs for now. */
    private final Set<String> stepping = ConcurrentHashMap.newKeySet();
    /** Open targets kept beyond the volumes in use: twice the copy concurrency, 8 at least. */
    private final int keepTargets;
    private final ProgressReporter progressReports = new ProgressReporter();
    private final ReplayEngine engine;
    private final List<VolumeCopier> copiers;
    /** Volumes whose (possibly sliced) copy has begun: its 'started' event is out, its 'finished' one not yet. */
    private final Set<String> copying = ConcurrentHashMap.newKeySet();
    /** When each volume's last progress event went out (nano time), across the slices of one copy. */
    private final Map<String, Long> lastEvent = new ConcurrentHashMap<>();
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
        // One limiter for every copy of this instance (replayer.rate is per instance, over all volumes), and one
        // copier per volume copied at once (a copier serves one caller at a time and owns its data set buffers).
        RateLimiter shared = RateLimiter.of(config.rateBytesPerSecond());
        VolumeCopier.Settings settings = new VolumeCopier.Settings(config.maxExtentBytes(), config.dataSetBytes(), config.skipIdentical(),
                config.linkTimeout().toMillis());
        List<VolumeCopier> copiers = new ArrayList<>();
        for (int i = 0; i < config.copy().concurrency(); i++) {
            copiers.add(new VolumeCopier(settings, replayed, shared));
        }
        this.copiers = List.copyOf(copiers);
        this.keepTargets = Math.max(8, 2 * config.copy().concurrency());
        this.engine = new ReplayEngine(copiers, replayed, this);
    }

    /**
     * Allocates every copier's data set buffers ahead of the first copy (replayer.copy.concurrency × 3 ×
     * replayer.dataset.bytes of heap); the service calls it once at start.
     */
    public void warmUp() {
        long t0 = System.nanoTime();
        copiers.forEach(VolumeCopier::warmUp);
        LOG.debug("data set buffers of {} copier(s) allocated in {} ms", copiers.size(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** Whether a sliced copy of {@code volume} is under way (its next slice is due whatever the index says now). */
    public boolean slicing(String volume) {
        return engine.slicing(volume);
    }

    /** Drops what this instance kept of a sliced copy of {@code volume} (the volume moved to another instance). */
    public void forget(String volume) {
        engine.forget(volume);
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
        synchronized (targetsLock) {
            String key = volume + "/" + node;
            targetUsed.put(key, System.nanoTime());
            return targets.computeIfAbsent(key,
                    k -> new LinkReplicaTarget(config.id(), config.node(node).link(), secret, config.linkTimeout(), linkTls));
        }
    }

    /**
     * Closes the least recently used targets beyond {@link #keepTargets} whose volume is not being
     * stepped nor in the middle of a sliced copy: each holds {@link LinkReplicaTarget#SENDERS} threads
     * and connections here and as many on the target facility, so without a bound a replayer that
     * resynced 1,000 volumes once kept 2,000 of each. The most recently used stay (a cutover's copy
     * follows its volume's last report, on the same connections).
     */
    private void trimTargets() {
        synchronized (targetsLock) {
            if (targets.size() <= keepTargets) {
                return;
            }
            List<String> idle = new ArrayList<>();
            for (String key : targets.keySet()) {
                String volume = key.substring(0, key.lastIndexOf('/'));
                if (!stepping.contains(volume) && !copying.contains(volume)) {
                    idle.add(key);
                }
            }
            idle.sort(java.util.Comparator.comparingLong(k -> targetUsed.getOrDefault(k, 0L)));
            for (String key : idle.subList(0, Math.min(idle.size(), targets.size() - keepTargets))) {
                LinkReplicaTarget t = targets.remove(key);
                targetUsed.remove(key);
                if (t != null) {
                    t.close();
                }
            }
        }
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
        return step(index, v, progress, Long.MAX_VALUE);
    }

    /**
     * One slice of {@code v}'s replay: at most {@code sliceBytes} copied, a {@link ReplayEngine.Step#partial()
     * partial} step when more are left. The replay events and the facility's progress figures cover the
     * whole copy (started once, finished once), whatever the number of slices.
     */
    public ReplayEngine.Step step(DirtySetIndex index, VolumeNodes v, Consumer<CopyProgress> progress, long sliceBytes)
            throws InterruptedException {
        boolean partial = false;
        synchronized (targetsLock) {
            stepping.add(v.volume());
        }
        try {
            ReplayEngine.Step step = reportedStep(index, v, progress, sliceBytes);
            partial = step != null && step.partial();
            return step;
        } finally {
            stepping.remove(v.volume());
            if (!partial) {
                copying.remove(v.volume());
                lastEvent.remove(v.volume());
                metrics.ended(v.volume());
                trimTargets();
            }
        }
    }

    private ReplayEngine.Step reportedStep(DirtySetIndex index, VolumeNodes v, Consumer<CopyProgress> progress, long sliceBytes)
            throws InterruptedException {
        CopyProgress[] finalReport = {null};
        String[] source = {null};
        ReplayEngine.Step step = engine.step(index, v, (direction, p) -> {
            source[0] = direction.source();
            metrics.progress(v.volume(), direction.source(), p);
            progress.accept(p);
            ReplayEvents.Progress figures = new ReplayEvents.Progress(p.bytesCopied(), p.bytesTotal(), p.regionsSkipped(), p.bytesPerSecond());
            if (copying.add(v.volume())) {
                events.started(v.volume(), p.era(), figures);
            }
            long now = System.nanoTime();
            if (now - lastEvent.getOrDefault(v.volume(), now - PROGRESS_EVERY_NANOS) >= PROGRESS_EVERY_NANOS
                    || p.bytesCopied() >= p.bytesTotal()) {
                lastEvent.put(v.volume(), now);
                events.progress(v.volume(), p.era(), figures);
                if (p.bytesCopied() >= p.bytesTotal()) {
                    finalReport[0] = p; // after the step's 'replayed' call, which must not queue behind it
                } else {
                    progressReports.report(v.volume(), control(direction.source()), p);
                }
            }
        }, sliceBytes);
        if (finalReport[0] != null) {
            progressReports.report(v.volume(), control(source[0]), finalReport[0]);
        }
        if (step != null && !step.partial() && step.progress() != null) {
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
