package io.blockrep.producer.replication;

import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A volume and its persisted metadata (role, generation history, consistent flag). Every change
 * goes through {@link #update}, which writes the metadata file atomically and durably before the
 * new state is visible, so a role or generation never takes effect before it would survive a crash.
 *
 * <p>Thread-safe: updates are serialised; {@link #metadata()} is a volatile read.
 */
public final class VolumeHandle {
    private final Volume volume;
    private final VolumeStore store;
    private volatile VolumeMetadata metadata;

    /** @param store where the metadata is persisted; null keeps it in memory only (unit tests) */
    public VolumeHandle(Volume volume, VolumeMetadata metadata, VolumeStore store) {
        this.volume = Objects.requireNonNull(volume, "volume");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.store = store;
    }

    public Volume volume() {
        return volume;
    }

    public VolumeMetadata metadata() {
        return metadata;
    }

    /** Applies {@code change}, persists the result when it differs, and returns it. */
    public synchronized VolumeMetadata update(UnaryOperator<VolumeMetadata> change) {
        VolumeMetadata next = change.apply(metadata);
        if (!next.equals(metadata)) {
            if (store != null) {
                store.save(next);
            }
            metadata = next;
        }
        return next;
    }
}
