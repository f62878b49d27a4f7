package io.blockrep.producer.link;

import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import java.nio.file.Path;
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

    /**
     * A volume, this side's current role for it, and its state directory (the facility's
     * {@code VolumeStore.volumeDir(id)}), under which data set journals are kept.
     */
    record Entry(Volume volume, Role role, Path volumeDir) {
        public Entry {
            Objects.requireNonNull(volume, "volume");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(volumeDir, "volumeDir");
        }
    }
}
