package io.blockrep.producer.replication;

import io.blockrep.common.thread.Supervised;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    /** Timers on a scheduled executor whose failures are logged at ERROR only. */
    static ModeTimer of(ScheduledExecutorService executor) {
        Logger log = LoggerFactory.getLogger(ModeTimer.class);
        return of(executor, e -> log.error("mode timer task failed", e));
    }

    /**
     * Timers on a scheduled executor (production). A task that throws is handed to {@code onFailure}
     * (the facility restarts the volumes' replication): left to the executor, the exception would sit
     * in a future nobody reads and, say, a cutover whose timeout task failed would hold writes with no
     * one told.
     */
    static ModeTimer of(ScheduledExecutorService executor, Consumer<Throwable> onFailure) {
        return (task, delay) -> {
            ScheduledFuture<?> f = executor.schedule(Supervised.guarded("mode timer", task, onFailure), delay.toNanos(), TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        };
    }
}
