package io.blockrep.replayer;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.replayer.copy.RateLimiter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    @Test
    void averageRateStaysAtTheLimitOnAStepClock() throws InterruptedException {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(10_000_000, now::get, now::addAndGet);
        for (int i = 0; i < 1000; i++) {
            limiter.acquire(1 << 20);
        }
        double seconds = now.get() / 1e9;
        double rate = 1000.0 * (1 << 20) / seconds;
        // The first second's worth is a burst; after that the clock advances exactly as the rate requires.
        assertThat(rate).isBetween(10_000_000 * 0.98, 10_000_000 * 1.1);
    }

    @Test
    void zeroMeansUnlimited() throws InterruptedException {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(0, now::get, now::addAndGet);
        limiter.acquire(Long.MAX_VALUE / 2);
        assertThat(now.get()).isZero();
    }
}
