package io.blockrep.replayer.service;

import io.blockrep.common.BlockrepException;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import io.blockrep.replayer.index.DirtyTopicFollower;
import io.blockrep.replayer.metrics.ReplayerMetrics;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
 * <p>Threads: the follower's owner thread consumes; one dispatcher thread ({@code replayer-<id>})
 * finds the owned volumes with something to copy and hands them to a pool of
 * {@code replayer.copy.concurrency} copy workers ({@code replayer-<id>-copy-<n>}) as
 * {@link CopyScheduler} decides: one volume on one worker at a time, turns of at most
 * {@code replayer.copy.slice} bytes, the ready volume served longest ago first, so a small resync
 * is not queued behind a large one. All copies share the instance's {@code replayer.rate}; a volume
 * may have its own {@code replayer.volume.<id>.rate} too. With {@code replayer.verify.interval} set,
 * a {@link io.blockrep.replayer.verify.ScheduledVerifier} thread verifies the owned volumes on that
 * schedule (a failure of it ends the service like a worker's). A failure of one step (a facility
 * unreachable, a refused report) is logged and retried after {@code RETRY}; it never stops the other
 * volumes. An unexpected failure of a worker or the dispatcher (any other exception or error) or of
 * the consumer ends the service: it leaves the consumer group at once, so another instance takes its
 * volumes over, and {@link #failed()} completes, so the process that runs it exits non-zero instead
 * of looking alive.
 *
 * <p>Thread-safety: the dispatcher alone reads the ownership and starts turns; the scheduler's state
 * is under its monitor; the engine and runtime take steps of different volumes on different threads
 * (their maps are concurrent, and each step has a copier of its own). A volume that leaves or joins
 * this instance's ownership has its sliced copy under way forgotten, so a takeover starts from the
 * index. The report to the facility (and so a cutover's release) follows the last slice of a copy,
 * on the worker that copied it.
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
    /** Whether a volume has something to step (true for every volume when a test replaces the step). */
    private final java.util.function.Predicate<VolumeNodes> ready;
    private final CopyScheduler scheduler;
    private final java.util.concurrent.ExecutorService copyWorkers;
    /** Turns that ended, so the dispatcher looks again at once. */
    private final java.util.concurrent.BlockingQueue<String> turnsEnded = new java.util.concurrent.LinkedBlockingQueue<>();
    /** Aggregate bytes of each volume's sliced copy so far, to charge each turn's bytes to the volume's own limit. */
    private final Map<String, Long> copiedSoFar = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean running = true;
    /** The scheduled verifier (replayer.verify.interval), or null when off. */
    private volatile io.blockrep.replayer.verify.ScheduledVerifier verifier;
    private final java.util.concurrent.CompletableFuture<Throwable> failed = new java.util.concurrent.CompletableFuture<>();
    /** The status app (replayer.status.app.enabled), or null when off or when it could not start. */
    private volatile io.blockrep.replayer.status.StatusApp statusApp;

    /**
     * One turn of a volume (a slice, or a whole step): {@link ReplayerRuntime#step} in production; a seam
     * for tests that make it fail.
     */
    interface Stepper {
        ReplayEngine.Step step(io.blockrep.replayer.index.DirtySetIndex index, VolumeNodes v) throws InterruptedException;
    }

    private ReplayerService(ReplayerConfig config, ReplayerRuntime runtime, Stepper stepper, ReplayerMetrics metrics) {
        this.config = config;
        this.runtime = runtime;
        this.metrics = metrics;
        this.scheduler = new CopyScheduler(config.copy(), System::nanoTime, ROUND, RETRY);
        this.stepper = stepper != null ? stepper : (index, v) -> runtime.step(index, v, p -> { }, scheduler.sliceBytes(v.volume()));
        this.ready = stepper != null ? v -> true : v -> runtime.slicing(v.volume()) || hasReadyEra(v);
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
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.copyWorkers = java.util.concurrent.Executors.newFixedThreadPool(config.copy().concurrency(), r -> {
            Thread t = new Thread(r, "replayer-" + config.id() + "-copy-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** A closed era is ready for {@code v} (or the records are in a state only a step reports on: it logs and retries). */
    private boolean hasReadyEra(VolumeNodes v) {
        try {
            return ReplayEngine.direction(follower.index(), v).isPresent();
        } catch (RuntimeException e) {
            return true;
        }
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

    private synchronized void fail(Throwable e) {
        if (failed.isDone()) {
            return;
        }
        running = false;
        copyWorkers.shutdownNow();   // the other workers stop mid-copy: the instance that takes over copies again
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
        Set<String> owned = Set.of();
        while (running) {
            if (follower.failure().isPresent()) {
                LOG.error("replayer {}: the dirty-topic consumer failed: {}", config.id(), follower.failure().get().toString());
                fail(follower.failure().get());
                return;
            }
            Set<String> now = follower.ownedVolumes();
            if (!now.equals(owned)) {
                // A volume that left, or came (back), starts from the index: what this instance kept of it may be stale.
                for (VolumeNodes v : config.volumes()) {
                    if (owned.contains(v.volume()) != now.contains(v.volume()) && !scheduler.isRunning(v.volume())) {
                        runtime.forget(v.volume());
                        copiedSoFar.remove(v.volume());
                    }
                }
                owned = now;
            }
            if (scheduler.hasFreeWorker()) {
                List<String> candidates = new ArrayList<>();
                Map<String, VolumeNodes> byId = new HashMap<>();
                for (VolumeNodes v : config.volumes()) {
                    if (owned.contains(v.volume()) && !scheduler.isRunning(v.volume()) && ready.test(v)) {
                        candidates.add(v.volume());
                        byId.put(v.volume(), v);
                    }
                }
                for (String volume : scheduler.pick(candidates)) {
                    VolumeNodes v = byId.get(volume);
                    copyWorkers.execute(() -> turn(v));
                }
            }
            try {
                if (turnsEnded.poll(ROUND.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS) != null) {
                    turnsEnded.clear();
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One turn of {@code v} on a copy worker. */
    private void turn(VolumeNodes v) {
        CopyScheduler.Outcome outcome = CopyScheduler.Outcome.FAILED;
        long bytes = 0;
        try {
            if (!running) {
                return;
            }
            ReplayEngine.Step step = stepper.step(follower.index(), v);
            if (step == null) {
                outcome = CopyScheduler.Outcome.IDLE;
                copiedSoFar.remove(v.volume());
            } else {
                outcome = CopyScheduler.Outcome.WORKED;
                long total = step.progress() == null ? 0 : step.progress().bytesCopied();
                bytes = Math.max(0, total - copiedSoFar.getOrDefault(v.volume(), 0L));
                if (step.partial()) {
                    copiedSoFar.put(v.volume(), total);
                } else {
                    copiedSoFar.remove(v.volume());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (io.blockrep.common.BlockrepException | IllegalStateException e) {
            copiedSoFar.remove(v.volume());
            if (running) {
                LOG.warn("replayer {}: volume {}: {}; retrying in {} s", config.id(), v.volume(), e.getMessage(), RETRY.toSeconds());
            }
        } catch (RuntimeException | Error e) {
            LOG.error("replayer {}: a copy worker failed on volume {} and the service stops (leaving the group, so another instance "
                    + "takes over): {}", config.id(), v.volume(), e.toString(), e);
            fail(e);
        } finally {
            scheduler.done(v.volume(), outcome, bytes);
            turnsEnded.add(v.volume());
        }
    }

    @Override
    public void close() {
        running = false;
        worker.interrupt();
        copyWorkers.shutdownNow();
        try {
            worker.join(10_000);
            if (!copyWorkers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.warn("replayer {}: copy workers still running after 10 s; closing their links", config.id());
            }
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
