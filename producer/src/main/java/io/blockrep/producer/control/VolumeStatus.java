package io.blockrep.producer.control;

/**
 * What the control API reports for one volume. {@code oldestDirtyWriteMillis} is the RPO exposure:
 * the epoch millis of the oldest write the peer does not have yet, or null when nothing is dirty.
 * {@code pendingEras}: closed eras the replayer has not finished; {@code lastCutoverHoldMillis}: how
 * long the last cutover held writes (null before the first).
 */
public record VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                           long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                           Long lastCutoverHoldMillis, ReplayProgress replay, Generations generations, Peer peer) {

    /** This copy's generation history (current first, 16 hex digits each) and whether its data is consistent. */
    public record Generations(String current, java.util.List<String> history, boolean consistent) {
    }

    /**
     * How the peer last described its copy at a handshake, and what comparing the generation
     * histories decided (SAME, LOCAL_NEWER, PEER_NEWER, SPLIT_BRAIN, UNRELATED); null before the first.
     */
    public record Peer(String node, String role, String decision, String generation, String detail) {
    }

    /** The replayer's last report for this volume (null when none): bytes copied of the era(s) being replayed, and rate. */
    public record ReplayProgress(long era, long bytesDone, long bytesTotal, long regionsSkipped, long bytesPerSecond, long reportedMillis) {
    }
}
