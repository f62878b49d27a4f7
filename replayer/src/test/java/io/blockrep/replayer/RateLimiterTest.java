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

    @Test
    void reserveTakesTheBytesAndSaysHowLongToWaitWithoutSleeping() {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(1_000_000, now::get, n -> {
            throw new AssertionError("reserve must not sleep");
        });
        assertThat(limiter.reserve(1_000_000)).as("the first second's worth is a burst").isZero();
        assertThat(limiter.reserve(500_000)).isEqualTo(500_000_000L);
        now.addAndGet(500_000_000L);
        assertThat(limiter.reserve(1)).as("the debt is paid after half a second").isBetween(1L, 1_000L);
    }

    @Test
    void oneLimiterSharedByManyThreadsKeepsTheirSumAtTheRate() throws Exception {
        AtomicLong now = new AtomicLong();
        RateLimiter limiter = new RateLimiter(10_000_000, now::get, n -> { });
        AtomicLong waited = new AtomicLong();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 250; i++) {
                    waited.accumulateAndGet(limiter.reserve(1 << 20), Math::max);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        // 1000 MiB taken at no time passing: the last taker owes (1000 MiB - 10 MB burst) / 10 MB/s.
        double expected = (1000.0 * (1 << 20) - 10_000_000) / 10_000_000 * 1e9;
        assertThat((double) waited.get()).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(0.1));
    }
}
