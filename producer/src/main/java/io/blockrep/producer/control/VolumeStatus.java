package io.blockrep.producer.control;

/**
 * What the control API reports for one volume. {@code oldestDirtyWriteMillis} is the RPO exposure:
 * the epoch millis of the oldest write the peer does not have yet, or null when nothing is dirty.
 * {@code pendingEras}: closed eras the replayer has not finished; {@code lastCutoverHoldMillis}: how
 * long the last cutover held writes (null before the first).
 */
public record VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                           long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                           Long lastCutoverHoldMillis, ReplayProgress replay) {

    /** The replayer's last report for this volume (null when none): bytes copied of the era(s) being replayed, and rate. */
    public record ReplayProgress(long era, long bytesDone, long bytesTotal, long regionsSkipped, long bytesPerSecond, long reportedMillis) {
    }
}
