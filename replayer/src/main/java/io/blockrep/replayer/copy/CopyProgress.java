package io.blockrep.replayer.copy;

/** Progress of one copy pass, reported after every acknowledged data set. */
public record CopyProgress(String volume, long era, long bytesTotal, long bytesCopied, long regionsTotal, long regionsCopied,
                           long regionsSkipped, long elapsedNanos) {
    public double bytesPerSecond() {
        return elapsedNanos <= 0 ? 0 : bytesCopied * 1e9 / elapsedNanos;
    }

    /** Seconds left at the current rate, or -1 when unknown. */
    public long etaSeconds() {
        double rate = bytesPerSecond();
        return rate <= 0 ? -1 : (long) ((bytesTotal - bytesCopied) / rate);
    }
}
