package io.blockrep.producer.replication;

import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.schemas.DirtyCause;

/**
 * Told what a {@link ReplicatedVolume} does, for Kafka and for logs. Calls must not block: they
 * come from the write path and from link threads.
 */
public interface VolumeObserver {
    VolumeObserver NONE = new VolumeObserver() {
        @Override
        public void firstTouch(String volume, long era, long region, long timeMillis, DirtyCause cause) {
        }

        @Override
        public void modeChanged(String volume, Mode from, Mode to, String reason) {
        }

        @Override
        public void eraClosed(String volume, long era, long regionCount) {
        }
    };

    /** A region became dirty in {@code era} (its bit is durable or about to be); exactly once per (era, region). */
    void firstTouch(String volume, long era, long region, long timeMillis, DirtyCause cause);

    void modeChanged(String volume, Mode from, Mode to, String reason);

    /** Era {@code era} takes no more regions and holds {@code regionCount}; the replayer may copy it now. */
    void eraClosed(String volume, long era, long regionCount);

    /** The volume's role changed here (persisted already). */
    default void roleChanged(String volume, Role from, Role to, String reason) {
    }

    /**
     * Regions of a pending era this side logged that a replay report did not cover: their dirty
     * records must be published again (someone else tombstoned them, or they were lost).
     */
    default void republish(String volume, long era, org.roaringbitmap.RoaringBitmap regions) {
    }

    /**
     * A bug: the replication invariant (DESIGN.md "The promise") did not hold; the volume went to
     * LOGGING so a resync repairs it. Reported as an event, for a bug report.
     */
    default void invariantViolated(String volume, String detail) {
    }

    /** Comparing generation histories with {@code peer} decided something new (see {@link SyncDecision}). */
    default void syncDecided(String volume, String peer, SyncDecision decision, String detail) {
    }
}
