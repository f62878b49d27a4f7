package io.blockrep.producer.control;

/**
 * What the control API reports for one volume. {@code oldestDirtyWriteMillis} is the RPO exposure:
 * the epoch millis of the oldest write the peer does not have yet, or null when nothing is dirty.
 * {@code pendingEras}: closed eras the replayer has not finished; {@code lastCutoverHoldMillis}: how
 * long the last cutover held writes (null before the first); {@code initialSync}: the initial sync of
 * a PRIMARY whose peer may lack its data (null when there is none); {@code lastVerify}: the last
 * finished verify of the copies (scheduled by the replayer or {@code blockrep verify}) since this
 * facility started, null before the first. {@code async}: the async mirror's queue, null when the
 * volume mirrors synchronously (or has no peer).
 */
public record VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                           long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                           Long lastCutoverHoldMillis, ReplayProgress replay, Generations generations, Peer peer,
                           InitialSyncProgress initialSync, VerifyResult lastVerify, AsyncLag async) {

    /** The status of a volume that mirrors synchronously. */
    public VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                        long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                        Long lastCutoverHoldMillis, ReplayProgress replay, Generations generations, Peer peer,
                        InitialSyncProgress initialSync, VerifyResult lastVerify) {
        this(volume, role, mode, modeReason, era, dirtyRegions, dirtyBytes, oldestDirtyWriteMillis, size, regionSize, pendingEras,
                lastCutoverHoldMillis, replay, generations, peer, initialSync, lastVerify, null);
    }

    /**
     * An async volume's queue: the writes acknowledged here and not yet by the peer (bytes, count,
     * and the age of the oldest in seconds, the RPO exposure), the most bytes it held (high-water
     * mark) against its cap, how many times a full queue forced LOGGING, and how many times the
     * queue was dropped for any reason (full, lag past max.lag, link failure, ack timeout).
     */
    public record AsyncLag(long lagBytes, long lagWrites, double lagSeconds, long highWaterBytes, long queueCapBytes,
                           long overflowLogging, long drops) {
    }

    /** The status of a volume with no verify result to report. */
    public VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                        long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                        Long lastCutoverHoldMillis, ReplayProgress replay, Generations generations, Peer peer,
                        InitialSyncProgress initialSync) {
        this(volume, role, mode, modeReason, era, dirtyRegions, dirtyBytes, oldestDirtyWriteMillis, size, regionSize, pendingEras,
                lastCutoverHoldMillis, replay, generations, peer, initialSync, null, null);
    }

    /** The status of a volume with no initial sync to report. */
    public VolumeStatus(String volume, String role, String mode, String modeReason, long era, long dirtyRegions,
                        long dirtyBytes, Long oldestDirtyWriteMillis, long size, int regionSize, java.util.List<Long> pendingEras,
                        Long lastCutoverHoldMillis, ReplayProgress replay, Generations generations, Peer peer) {
        this(volume, role, mode, modeReason, era, dirtyRegions, dirtyBytes, oldestDirtyWriteMillis, size, regionSize, pendingEras,
                lastCutoverHoldMillis, replay, generations, peer, null, null, null);
    }

    /**
     * An initial sync: PENDING (the regions to copy are found when the volume is first run with a
     * peer) or RUNNING, with the regions it marked, those not copied yet, the percent copied, and
     * the estimated seconds left at the replayer's last reported rate (null when unknown).
     */
    public record InitialSyncProgress(String phase, long regions, long remainingRegions, int percent, Long etaSeconds) {
        /**
         * From the persisted phase and region count, the volume's dirty regions and pending eras now,
         * and the replayer's last report. A region stays dirty until its whole era is replayed, so
         * the bytes the replayer reports copied of a pending era count as done too.
         */
        public static InitialSyncProgress of(io.blockrep.common.volume.InitialSync sync, long dirtyRegions, int regionSize,
                                             java.util.List<Long> pendingEras, ReplayProgress replay) {
            if (sync.phase() == io.blockrep.common.volume.InitialSync.Phase.NONE) {
                return null;
            }
            if (sync.phase() == io.blockrep.common.volume.InitialSync.Phase.PENDING) {
                return new InitialSyncProgress(sync.phase().name(), 0, 0, 0, null);
            }
            long remaining = Math.min(dirtyRegions, sync.regions());
            if (replay != null && replay.bytesDone() < replay.bytesTotal() && !pendingEras.isEmpty()
                    && replay.era() >= pendingEras.get(0)) {
                remaining = Math.max(0, remaining - replay.bytesDone() / regionSize);
            }
            int percent = sync.regions() == 0 ? 100 : (int) (100 * (sync.regions() - remaining) / sync.regions());
            Long eta = replay == null || replay.bytesPerSecond() <= 0 ? null
                    : (remaining * regionSize + replay.bytesPerSecond() - 1) / replay.bytesPerSecond();
            return new InitialSyncProgress(sync.phase().name(), sync.regions(), remaining, percent, eta);
        }
    }

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

    /**
     * A finished verify of this volume's copies, as its verifier reported it ({@code POST .../verified}):
     * when it finished (epoch millis), the regions compared, how many differed (they were marked dirty,
     * cause VERIFY_MISMATCH, unless it was a dry run), how long it took, and who ran it (a replayer id).
     */
    public record VerifyResult(long finishedMillis, long regionsChecked, long regionsDiffering, long durationMillis, String by) {
        /** "last verified at 2026-12-02T07:15:04Z, 3 regions differed". */
        public String summary() {
            return "last verified at " + java.time.Instant.ofEpochMilli(finishedMillis) + ", " + regionsDiffering
                    + (regionsDiffering == 1 ? " region differed" : " regions differed");
        }
    }
}
