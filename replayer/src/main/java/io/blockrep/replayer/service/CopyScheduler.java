package io.blockrep.replayer.service;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.copy.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Decides which volumes the service's copy workers step next: at most {@code concurrency} at once,
 * one volume on one worker at a time, and among the volumes that are ready the one served longest
 * ago first (never served = first of all, ties in configuration order). With each turn bounded by
 * {@code replayer.copy.slice} this is a round robin over the ready volumes: a volume that becomes
 * ready waits for at most one slice of a busy worker, so a small resync finishes in its first turn
 * while a large one takes many, and N large resyncs share the workers instead of the first N
 * holding them to the end.
 *
 * <p>Why slices and round robin rather than smaller-first ordering: the size of a resync is only
 * known once its era closed, and a large one already running cannot be overtaken without a bound on
 * its turn. Slicing bounds the wait whatever arrives when, and costs one pipeline drain per slice
 * (64 MiB by default: a few milliseconds in about half a second of copying).
 *
 * <p>A volume's own limit ({@code replayer.volume.<id>.rate}) is applied here, not in the copier: its
 * slices are at most one second of its rate, and after a slice the volume is not due again until its
 * bucket allows, so a slow volume never keeps a worker asleep. A step that found nothing to do is
 * not retried for {@code idle}; a failed one for {@code retry}.
 *
 * <p>Thread-safety: every method holds this object's monitor; the service's dispatcher calls
 * {@link #pick} and the workers {@link #done}. Time comes from the injected nano clock.
 */
final class CopyScheduler {
    /** How a turn ended. */
    enum Outcome {
        /** Nothing was ready (the step returned null). */
        IDLE,
        /** A slice or a whole step was done; ready again at once (or when the volume's limit allows). */
        WORKED,
        /** The step failed retriably; retried after the retry delay. */
        FAILED
    }

    private static final class State {
        long notBefore;
        long lastServed;
        boolean running;
    }

    private final int concurrency;
    private final long sliceBytes;
    private final LongSupplier nanoTime;
    private final long idleNanos;
    private final long retryNanos;
    private final Map<String, State> states = new HashMap<>();
    private final Map<String, RateLimiter> volumeLimits = new HashMap<>();
    private long served;
    private int running;

    CopyScheduler(ReplayerConfig.Copying copying, LongSupplier nanoTime, Duration idle, Duration retry) {
        this.concurrency = copying.concurrency();
        this.sliceBytes = copying.sliceBytes();
        this.nanoTime = nanoTime;
        this.idleNanos = idle.toNanos();
        this.retryNanos = retry.toNanos();
        copying.volumeRates().forEach((volume, rate) -> volumeLimits.put(volume, new RateLimiter(rate, nanoTime, n -> { })));
    }

    /**
     * Of {@code ready} (in configuration order), the volumes to start now, marked running: not running
     * already, due, served longest ago first, as many as workers are free.
     */
    synchronized List<String> pick(List<String> ready) {
        long now = nanoTime.getAsLong();
        List<String> due = new ArrayList<>();
        for (String v : ready) {
            State s = state(v);
            if (!s.running && now - s.notBefore >= 0) {
                due.add(v);
            }
        }
        due.sort(Comparator.comparingLong(v -> state(v).lastServed));   // stable: ties keep configuration order
        List<String> picked = new ArrayList<>(due.subList(0, Math.min(due.size(), concurrency - running)));
        for (String v : picked) {
            State s = state(v);
            s.running = true;
            s.lastServed = ++served;
            running++;
        }
        return picked;
    }

    /** A turn of {@code volume} ended: {@code bytes} copied in it. */
    synchronized void done(String volume, Outcome outcome, long bytes) {
        State s = state(volume);
        if (s.running) {
            s.running = false;
            running--;
        }
        long now = nanoTime.getAsLong();
        s.notBefore = switch (outcome) {
            case IDLE -> now + idleNanos;
            case FAILED -> now + retryNanos;
            case WORKED -> {
                RateLimiter limit = volumeLimits.get(volume);
                yield now + (limit == null ? 0 : limit.reserve(bytes));
            }
        };
    }

    /** The most bytes {@code volume} copies in one turn: the slice, or one second of its own limit if less. */
    long sliceBytes(String volume) {
        RateLimiter limit = volumeLimits.get(volume);
        return limit == null ? sliceBytes : Math.max(1, Math.min(sliceBytes, limit.bytesPerSecond()));
    }

    /** Volumes being stepped now. */
    synchronized int running() {
        return running;
    }

    /** Whether a worker is free. */
    synchronized boolean hasFreeWorker() {
        return running < concurrency;
    }

    synchronized boolean isRunning(String volume) {
        return state(volume).running;
    }

    private State state(String volume) {
        return states.computeIfAbsent(volume, v -> new State());
    }
}
