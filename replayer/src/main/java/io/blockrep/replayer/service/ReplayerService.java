package io.blockrep.replayer.service;

import io.blockrep.common.BlockrepException;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.index.DirtyTopicFollower;
import io.blockrep.replayer.metrics.ReplayerMetrics;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The continuous replayer ({@code blockrep replayer}): a member of the replayer consumer group on the
 * dirty topic. It owns the volumes of the partitions assigned to it (a failed instance's volumes move
 * to the others, which rebuild them from the compacted topic and finish them) and steps each owned,
 * configured volume through {@link ReplayEngine} whenever a closed era is ready.
 *
 * <p>Threads: the follower's owner thread consumes; one worker thread steps the volumes in turn; with
 * {@code replayer.verify.interval} set, a {@link io.blockrep.replayer.verify.ScheduledVerifier} thread
 * verifies the owned volumes on that schedule (a failure of it ends the service like the worker's). A
 * failure of one step (a facility unreachable, a refused report) is logged and retried on the next
 * round (after {@code retryDelay}); it never stops the other volumes. An unexpected failure of the
 * worker (any other exception or error) or of the consumer ends the service: it leaves the consumer
 * group at once, so another instance takes its volumes over, and {@link #failed()} completes, so the
 * process that runs it exits non-zero instead of looking alive.
 */
public final class ReplayerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayerService.class);
    /** Pause between rounds that found nothing to do; a round that replayed something is followed at once. */
    private static final Duration ROUND = Duration.ofMillis(10);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final ReplayerConfig config;
    private final ReplayerRuntime runtime;
    private final ReplayerMetrics metrics;
    private final DirtyTopicFollower follower;
    private final Thread worker;
    private final Stepper stepper;
    private final Map<String, Long> retryAt = new HashMap<>();
    private volatile boolean running = true;
    /** The scheduled verifier (replayer.verify.interval), or null when off. */
    private volatile io.blockrep.replayer.verify.ScheduledVerifier verifier;
    private final java.util.concurrent.CompletableFuture<Throwable> failed = new java.util.concurrent.CompletableFuture<>();
    /** The status app (replayer.status.app.enabled), or null when off or when it could not start. */
    private volatile io.blockrep.replayer.status.StatusApp statusApp;

    /** One replay step of a volume: {@link ReplayerRuntime#step} in production; a seam for tests that make it fail. */
    interface Stepper {
        ReplayEngine.Step step(io.blockrep.replayer.index.DirtySetIndex index, VolumeNodes v) throws InterruptedException;
    }

    private ReplayerService(ReplayerConfig config, ReplayerRuntime runtime, Stepper stepper, ReplayerMetrics metrics) {
        this.config = config;
        this.runtime = runtime;
        this.metrics = metrics;
        this.stepper = stepper == null ? runtime::step : stepper;
        Properties props = runtime.clientProperties();
        this.follower = DirtyTopicFollower.start(props, config.groupId(), config.id(), io.blockrep.replayer.index.SourceTopics.of(config),
                new DirtyTopicFollower.OwnershipListener() {
                    @Override
                    public void volumesAssigned(Set<String> volumes) {
                        LOG.info("replayer {} now owns {}", config.id(), volumes);
                    }

                    @Override
                    public void volumesRevoked(Set<String> volumes) {
                        LOG.info("replayer {} no longer owns {}", config.id(), volumes);
                    }
                }, runtime.codecs().readers(), runtime.deadLetters());
        this.worker = new Thread(this::run, "replayer-" + config.id());
        this.worker.setDaemon(true);
    }

    public static ReplayerService start(ReplayerConfig config) {
        return start(config, null);
    }

    /** As {@link #start(ReplayerConfig)}, with the step replaced (tests); null = the real one. */
    static ReplayerService start(ReplayerConfig config, Stepper stepper) {
        TopicLayout layout = new TopicLayout(config.topicPrefix());
        ReplayerMetrics metrics = ReplayerMetrics.start(config.metricsListen(), config.id(), java.util.List.of(layout.dirty(), layout.events()));
        config.volumes().forEach(v -> v.nodes().forEach(n -> metrics.prepare(v.volume(), n)));
        ReplayerRuntime runtime;
        try {
            runtime = ReplayerRuntime.open(config, metrics);
        } catch (RuntimeException e) {
            metrics.close();
            throw e;
        }
        try {
            ReplayerService s = new ReplayerService(config, runtime, stepper, metrics);
            s.worker.start();
            s.startVerifier();
            s.startStatusApp();
            return s;
        } catch (RuntimeException e) {
            runtime.close();
            metrics.close();
            throw e;
        }
    }

    /**
     * The service's metrics: the DLQ handling reports each dead-lettered record with
     * {@link ReplayerMetrics#deadLettered}; {@link ReplayerMetrics#url()} is the endpoint when replayer.metrics.listen is set.
     */
    public ReplayerMetrics metrics() {
        return metrics;
    }

    /** Schedules the verifier beside the stepping, on its own thread: a long verify never delays a resync. */
    private void startVerifier() {
        if (config.verifyInterval().isZero()) {
            return;
        }
        Set<String> configured = new java.util.HashSet<>();
        config.volumes().forEach(v -> configured.add(v.volume()));
        verifier = new io.blockrep.replayer.verify.ScheduledVerifier(config.verifyInterval(),
                new io.blockrep.replayer.verify.LiveVerifyVolumes(config, runtime::control, runtime.events()),
                () -> follower.ownedOf(configured),
                v -> follower.index().liveCount(v) > 0, java.time.Clock.systemUTC()).start(config.id(), this::fail);
    }

    /** The status table beside the replay; it is a view, so a failure to start it is logged and the replay goes on. */
    private void startStatusApp() {
        if (!config.statusApp().enabled()) {
            return;
        }
        try {
            statusApp = io.blockrep.replayer.status.StatusApp.start(io.blockrep.replayer.status.StatusApp.Settings.of(config),
                    io.blockrep.replayer.status.StatusCodecs.of(runtime.codecs().readers()));
        } catch (RuntimeException e) {
            LOG.error("replayer {}: the status app did not start (the replay goes on without it): {}", config.id(), e.getMessage());
        }
    }

    /** The status app run by this service, if it runs. */
    public java.util.Optional<io.blockrep.replayer.status.StatusApp> statusApp() {
        return java.util.Optional.ofNullable(statusApp);
    }

    public Set<String> ownedVolumes() {
        return follower.ownedVolumes();
    }

    /** Completes with the failure that ended the service (its worker or its consumer died); never completes otherwise. */
    public java.util.concurrent.CompletionStage<Throwable> failed() {
        return failed;
    }

    private void run() {
        try {
            loop();
        } catch (RuntimeException | Error e) {
            LOG.error("replayer {}: the worker failed and the service stops (leaving the group, so another instance takes over): {}",
                    config.id(), e.toString(), e);
            fail(e);
        }
    }

    private void fail(Throwable e) {
        running = false;
        if (verifier != null) {
            verifier.close();
        }
        try {
            follower.close();
        } catch (RuntimeException closing) {
            e.addSuppressed(closing);
        }
        failed.complete(e);
    }

    private void loop() {
        runtime.warmUp();
        while (running) {
            if (follower.failure().isPresent()) {
                LOG.error("replayer {}: the dirty-topic consumer failed: {}", config.id(), follower.failure().get().toString());
                fail(follower.failure().get());
                return;
            }
            Set<String> owned = follower.ownedVolumes();
            boolean worked = false;
            for (VolumeNodes v : config.volumes()) {
                if (!running || !owned.contains(v.volume()) || System.nanoTime() < retryAt.getOrDefault(v.volume(), 0L)) {
                    continue;
                }
                try {
                    worked |= stepper.step(follower.index(), v) != null;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (BlockrepException | IllegalStateException e) {
                    LOG.warn("replayer {}: volume {}: {}; retrying in {} s", config.id(), v.volume(), e.getMessage(), RETRY.toSeconds());
                    retryAt.put(v.volume(), System.nanoTime() + RETRY.toNanos());
                }
            }
            if (worked) {
                continue;
            }
            try {
                Thread.sleep(ROUND.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        worker.interrupt();
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (verifier != null) {
            verifier.close();
        }
        if (statusApp != null) {
            statusApp.close();
        }
        follower.close();
        runtime.close();
        metrics.close();
    }
}
