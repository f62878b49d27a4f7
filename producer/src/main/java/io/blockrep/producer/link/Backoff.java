package io.blockrep.producer.link;

import java.time.Duration;

/** Exponential reconnect delay: min, 2 x min, ... capped at max; {@link #reset()} after a restore. Not thread-safe. */
final class Backoff {
    private final long minNanos;
    private final long maxNanos;
    private long next;

    Backoff(Duration min, Duration max) {
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
        this.next = minNanos;
    }

    long nextNanos() {
        long d = next;
        next = Math.min(maxNanos, next > maxNanos / 2 ? maxNanos : next * 2);
        return d;
    }

    void reset() {
        next = minNanos;
    }
}
