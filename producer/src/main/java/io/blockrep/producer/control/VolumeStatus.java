package io.blockrep.producer.control;

/**
 * What the control API reports for one volume. {@code oldestDirtyWriteMillis} is the RPO exposure:
 * the epoch millis of the oldest write the peer does not have yet, or null when nothing is dirty.
 */
public record VolumeStatus(String volume, String role, String mode, long era, long dirtyRegions, long dirtyBytes,
                           Long oldestDirtyWriteMillis, long size, int regionSize) {
}
