package io.blockrep.producer.nbd;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * A WARN logged at most once per interval, whatever the number of occurrences: the first occurrence
 * of an interval is logged, with a count of the ones suppressed since the previous report; the
 * others are only counted. Lets a flood of hostile connections cost one log line a minute.
 * Thread-safe.
 */
final class RateLimitedWarning {
    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private boolean reported;
    private long lastReportNanos;
    private long suppressed;

    RateLimitedWarning(Logger log, Duration interval, LongSupplier nanoTime) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Counts one occurrence; logs {@code message} (an SLF4J format with {@code args}) if the interval allows. Returns whether it logged. */
    boolean warn(String message, Object... args) {
        long suppressedBefore;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (reported && now - lastReportNanos < intervalNanos) {
                suppressed++;
                return false;
            }
            reported = true;
            lastReportNanos = now;
            suppressedBefore = suppressed;
            suppressed = 0;
        }
        String suffix = suppressedBefore == 0 ? "" : " (" + suppressedBefore + " more since the last warning)";
        if (log.isWarnEnabled()) {
            log.warn(message + suffix + "; this warning is logged at most once every {} s", append(args, intervalNanos / 1_000_000_000L));
        }
        return true;
    }

    private static Object[] append(Object[] args, Object last) {
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = last;
        return all;
    }
}
