package io.blockrep.producer.replication;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Timers of the mode machine (cutover hold, drain bound, LOGGING retry): a seam, so that unit
 * tests fire them on command instead of waiting. Tasks must not block; they may run on any thread.
 */
public interface ModeTimer {
    /** A scheduled task; {@link #cancel()} after it ran or was cancelled does nothing. */
    interface Scheduled {
        void cancel();
    }

    Scheduled schedule(Runnable task, Duration delay);

    /** Timers on a scheduled executor (production). */
    static ModeTimer of(ScheduledExecutorService executor) {
        return (task, delay) -> {
            ScheduledFuture<?> f = executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        };
    }
}
