package io.blockrep.replayer.copy;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket over bytes: {@link #acquire} blocks until the bytes may be sent, so that the
 * average rate stays at or below {@code bytesPerSecond} (bursts up to one second's worth).
 * Thread-safe: one instance may be shared by every copier of a replayer ({@code replayer.rate} is per
 * instance, over all volumes); a volume's own limit is a second instance. A rate of 0 means
 * unlimited. Time comes from an injected nano clock.
 */
public final class RateLimiter {
    public interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private final long bytesPerSecond;
    private final LongSupplier nanoTime;
    private final Sleeper sleeper;
    private double tokens;
    private long last;

    public RateLimiter(long bytesPerSecond, LongSupplier nanoTime, Sleeper sleeper) {
        this.bytesPerSecond = bytesPerSecond;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        this.last = nanoTime.getAsLong();
        this.tokens = bytesPerSecond;
    }

    public static RateLimiter of(long bytesPerSecond) {
        return new RateLimiter(bytesPerSecond, System::nanoTime, TimeUnit.NANOSECONDS::sleep);
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Takes {@code bytes} from the bucket, waiting as long as the rate requires. */
    public void acquire(long bytes) throws InterruptedException {
        long wait = reserve(bytes);
        if (wait > 0) {
            sleeper.sleepNanos(wait);
        }
    }

    /**
     * Takes {@code bytes} from the bucket without waiting and returns how many nanoseconds the caller
     * should let pass before it sends more (0 = at once): the service uses it for a volume's own limit,
     * making the volume wait for its next turn instead of keeping a worker asleep.
     */
    public long reserve(long bytes) {
        if (bytesPerSecond <= 0 || bytes <= 0) {
            return 0;
        }
        synchronized (this) {
            refill();
            tokens -= bytes;
            return tokens >= 0 ? 0 : (long) (-tokens * 1e9 / bytesPerSecond);
        }
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(bytesPerSecond, tokens + (now - last) * (double) bytesPerSecond / 1e9);
        last = now;
    }
}
