package io.blockrep.common.thread;

import java.time.Duration;

/**
 * The delay before restarting a component that failed: 0.5 s doubling to 60 s while failures come
 * within 2 minutes of each other; after a quieter spell the next failure starts again at attempt 1.
 * Not thread-safe: one owner calls {@link #failed}.
 */
public final class RestartBackoff {
    public static final Duration MIN = Duration.ofMillis(500);
    public static final Duration MAX = Duration.ofSeconds(60);
    public static final Duration RESET = MAX.multipliedBy(2);
    private int attempt;
    private long lastFailureMillis;

    /** Counts a failure at {@code nowMillis}; returns the delay before the restart, in ms. */
    public long failed(long nowMillis) {
        attempt = attempt > 0 && nowMillis - lastFailureMillis <= RESET.toMillis() ? attempt + 1 : 1;
        lastFailureMillis = nowMillis;
        return delayOf(attempt);
    }

    /** Consecutive failures so far (1 after the first). */
    public int attempt() {
        return attempt;
    }

    /** The delay before restart attempt {@code n} (1-based), in ms. */
    public static long delayOf(int n) {
        return Math.min(MAX.toMillis(), MIN.toMillis() << Math.min(n - 1, 30));
    }
}
