package io.blockrep.replayer.verify;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.volume.RegionGeometry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replayer service's scheduled verification ({@code replayer.verify.interval}): each volume this
 * instance owns is compared with {@link VolumeVerifier} when {@link VerifySchedule} says it is due,
 * only while its primary is REPLICATING and no dirty region of it is live in the topic (a resync
 * pending or running). The compare yields — stops between chunks — when the volume leaves
 * REPLICATING, a dirty region of it appears, or this instance loses it. A compare that finds
 * differing regions marks them dirty on the primary (cause VERIFY_MISMATCH, which leaves REPLICATING
 * and resyncs them); a finished one is recorded in the primary's status ("last verified at ..., N
 * regions differed"), published as an event ({@code OTHER}, {@code kind=VERIFY_FINISHED}) and logged.
 *
 * <p>Threads: {@link #tick()} is called by one owner thread, the one {@link #start} makes ({@code
 * replayer-verify-<id>}), or a test. It verifies at most one volume per call. A failure that a retry
 * can cure (a {@link BlockrepException}: a facility unreachable, a link refused) postpones the volume;
 * any other exception ends the thread and is handed to {@code onFailure}, so the service stops
 * instead of running on without its verifier.
 */
public final class ScheduledVerifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledVerifier.class);
    /** The owner thread's pause between ticks. */
    static final Duration TICK = Duration.ofSeconds(1);

    /** A volume's current pair as its primary describes it; {@code lastVerifiedMillis} -1 when it records none. */
    public record Target(String volume, String primary, String replica, RegionGeometry geometry, String mode,
                         long lastVerifiedMillis) {
    }

    /** What the verifier does to the outside world; {@link LiveVerifyVolumes} in production, a fake in tests. */
    public interface Volumes {
        /** The volume's current primary and replica, or empty when no node claims PRIMARY. */
        Optional<Target> target(String volume);

        /** The mode of {@code volume} on {@code primary} now (asked between chunks, to yield). */
        String mode(String volume, String primary);

        VolumeVerifier.Result compare(Target target, BooleanSupplier stop) throws InterruptedException;

        /** Marks {@code regions} dirty on the primary (cause VERIFY_MISMATCH); returns how many were newly marked. */
        long markDiffering(Target target, List<Long> regions);

        /** Records a finished verify in the primary's status. */
        void verified(Target target, VolumeVerifier.Result result, long finishedMillis);

        /** Publishes the VERIFY_FINISHED event. */
        void event(Target target, Map<String, String> detail);
    }

    private final Duration interval;
    private final Volumes volumes;
    private final Supplier<Set<String>> owned;
    private final Predicate<String> resyncPending;
    private final Clock clock;
    private final VerifySchedule schedule;
    private volatile boolean running = true;
    private volatile Thread thread;

    /**
     * @param owned         the configured volumes this instance owns now
     * @param resyncPending true while a dirty region of the volume is live in the topic (a resync is due or running)
     */
    public ScheduledVerifier(Duration interval, Volumes volumes, Supplier<Set<String>> owned, Predicate<String> resyncPending, Clock clock) {
        this.interval = interval;
        this.volumes = volumes;
        this.owned = owned;
        this.resyncPending = resyncPending;
        this.clock = clock;
        this.schedule = new VerifySchedule(interval);
    }

    /** Starts the owner thread, which ticks every {@link #TICK}; an unexpected failure ends it and goes to {@code onFailure}. */
    public ScheduledVerifier start(String replayerId, Consumer<Throwable> onFailure) {
        Thread t = new Thread(() -> {
            try {
                while (running) {
                    tick();
                    Thread.sleep(TICK.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | Error e) {
                if (running) {
                    LOG.error("replayer {}: the scheduled verifier failed: {}", replayerId, e.toString(), e);
                    onFailure.accept(e);
                }
            }
        }, "replayer-verify-" + replayerId);
        t.setDaemon(true);
        thread = t;
        t.start();
        LOG.info("replayer {}: verifying each owned volume every {} while it is REPLICATING", replayerId, interval);
        return this;
    }

    /** When {@code volume} is next due (epoch millis; -1 when not owned at the last tick). */
    public long dueMillis(String volume) {
        return schedule.dueMillis(volume);
    }

    /** Verifies the first due volume, if any; returns the result, or null when none was verified to the end. */
    public VolumeVerifier.Result tick() throws InterruptedException {
        long now = clock.millis();
        for (String volume : schedule.due(owned.get(), now)) {
            try {
                return verify(volume, now);
            } catch (BlockrepException e) {
                LOG.warn("scheduled verify of {}: {}; trying again in {} s", volume, e.getMessage(), schedule.retryDelay().toSeconds());
                schedule.postpone(volume, now);
            }
        }
        return null;
    }

    private VolumeVerifier.Result verify(String volume, long now) throws InterruptedException {
        if (resyncPending.test(volume)) {
            LOG.debug("scheduled verify of {} waits: dirty regions of it are live (a resync)", volume);
            schedule.postpone(volume, now);
            return null;
        }
        Optional<Target> found = volumes.target(volume);
        if (found.isEmpty() || !"REPLICATING".equals(found.get().mode())) {
            LOG.debug("scheduled verify of {} waits: {}", volume, found.map(t -> t.primary() + " is " + t.mode()).orElse("no primary"));
            schedule.postpone(volume, now);
            return null;
        }
        Target target = found.get();
        if (target.lastVerifiedMillis() >= 0 && target.lastVerifiedMillis() + interval.toMillis() > now) {
            schedule.verified(volume, target.lastVerifiedMillis()); // verified elsewhere meanwhile (blockrep verify, another instance)
            return null;
        }
        LOG.info("scheduled verify of {} ({} against {}) starts", volume, target.primary(), target.replica());
        BooleanSupplier stop = () -> !running || !owned.get().contains(volume) || resyncPending.test(volume)
                || !"REPLICATING".equals(volumes.mode(volume, target.primary()));
        VolumeVerifier.Result result = volumes.compare(target, stop);
        long marked = result.differing().isEmpty() ? 0 : volumes.markDiffering(target, result.differing());
        long finished = clock.millis();
        volumes.event(target, Map.of("regionsChecked", Long.toString(result.regionsChecked()),
                "regionsDiffering", Long.toString(result.differing().size()), "durationMillis", Long.toString(result.durationMillis()),
                "complete", Boolean.toString(result.complete()), "primary", target.primary(), "replica", target.replica()));
        if (!result.complete()) {
            LOG.info("scheduled verify of {} yielded after {} of {} regions (the volume left REPLICATING, a resync started or it"
                    + " moved to another instance); {} differed so far{}; trying again in {} s", volume, result.regionsChecked(),
                    target.geometry().regionCount(), result.differing().size(), marked > 0 ? " and were marked dirty" : "",
                    schedule.retryDelay().toSeconds());
            schedule.postpone(volume, finished);
            return null;
        }
        schedule.verified(volume, finished);
        try {
            volumes.verified(target, result, finished);
        } catch (BlockrepException e) {
            // Marks and event are out; a facility that cannot record the result (an older one) is no reason to verify again at once.
            LOG.warn("{}: the primary {} did not record the verify result: {}", volume, target.primary(), e.getMessage());
        }
        LOG.info("{}: last verified at {}, {} regions differed ({} regions of {} against {} in {} ms{}); next verify in {}", volume,
                java.time.Instant.ofEpochMilli(finished), result.differing().size(), result.regionsChecked(), target.primary(),
                target.replica(), result.durationMillis(), result.differing().isEmpty() ? ""
                        : "; " + marked + " newly marked dirty (VERIFY_MISMATCH), the resync repairs them", interval);
        return result;
    }

    @Override
    public void close() {
        running = false;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
