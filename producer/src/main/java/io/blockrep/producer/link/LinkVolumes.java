package io.blockrep.producer.link;

import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.Volume;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How the link server finds the facility's volumes. Looked up on every HELLO and every WRITE, data
 * set frame and HASH_REQUEST, so a role change made by the facility takes effect on the next frame.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface LinkVolumes {
    Optional<Entry> find(String volumeId);

    /** A peer facility described its copy of a volume in HELLO; {@code decision} is the comparison as this side sees it. */
    default void peerDescribed(String peerNode, VolumeInfo theirs, SyncDecision decision) {
    }

    /**
     * The attached primary tells where the resync of this side's copy stands (see
     * {@code LinkMessage.GenerationUpdate}); this side records it durably before it returns.
     */
    default void generationUpdate(String volumeId, boolean inSync, List<Generation> history) {
        throw new UnsupportedOperationException("this side does not keep generations");
    }

    /**
     * A DATASET_BEGIN for this side's SECONDARY copy of {@code volumeId} arrived; called before
     * anything of the set is journaled or applied. Data sets are only sent by a resync (catching up
     * dirty regions, an initial or full copy), and from the first of them until the primary's history
     * is adopted ({@link #generationUpdate} with {@code inSync}) the copy is a mix of old and new data:
     * the implementation records it inconsistent durably before it returns (cheaply when it already
     * is; called on every BEGIN). An exception refuses the set with IO_ERROR.
     */
    default void resyncBegun(String volumeId) {
    }

    /** A data set of {@code bytes} was applied to this side's copy of {@code volumeId} durably (and is being acknowledged). */
    default void dataSetApplied(String volumeId, long bytes) {
    }

    /**
     * A volume, this side's current role and generation history for it, and its state directory
     * (the facility's {@code VolumeStore.volumeDir(id)}), under which data set journals are kept.
     */
    record Entry(Volume volume, Role role, Path volumeDir, GenerationHistory generations) {
        public Entry {
            Objects.requireNonNull(volume, "volume");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(volumeDir, "volumeDir");
            Objects.requireNonNull(generations, "generations");
        }

        /** A volume that is in its created generation. */
        public Entry(Volume volume, Role role, Path volumeDir) {
            this(volume, role, volumeDir, GenerationHistory.created());
        }
    }
}
