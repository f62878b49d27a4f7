package io.blockrep.replayer.copy;

/**
 * Progress of one copy pass, reported after every acknowledged data set. {@code bytesCopied} counts
 * the regions done (sent, or skipped as already there); {@code bytesSent} only the data that went to
 * the target; {@code regionsZero} the regions skipped because they hold zeros on both sides.
 */
public record CopyProgress(String volume, long era, long bytesTotal, long bytesCopied, long regionsTotal, long regionsCopied,
                           long regionsSkipped, long elapsedNanos, long bytesSent, long regionsZero) {
    /** Progress with every byte done counted as sent and no zero regions. */
    public CopyProgress(String volume, long era, long bytesTotal, long bytesCopied, long regionsTotal, long regionsCopied,
                        long regionsSkipped, long elapsedNanos) {
        this(volume, era, bytesTotal, bytesCopied, regionsTotal, regionsCopied, regionsSkipped, elapsedNanos, bytesCopied, 0);
    }

    public double bytesPerSecond() {
        return elapsedNanos <= 0 ? 0 : bytesCopied * 1e9 / elapsedNanos;
    }

    /** Seconds left at the current rate, or -1 when unknown. */
    public long etaSeconds() {
        double rate = bytesPerSecond();
        return rate <= 0 ? -1 : (long) ((bytesTotal - bytesCopied) / rate);
    }
}
