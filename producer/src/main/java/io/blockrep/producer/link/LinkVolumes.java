package io.blockrep.producer.link;

import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import java.util.Objects;
import java.util.Optional;

/**
 * How the link server finds the facility's volumes. Looked up on every HELLO and every WRITE, so
 * a role change made by the facility takes effect on the next frame. Implementations must be
 * thread-safe.
 */
@FunctionalInterface
public interface LinkVolumes {
    Optional<Entry> find(String volumeId);

    /** A volume and this side's current role for it. */
    record Entry(Volume volume, Role role) {
        public Entry {
            Objects.requireNonNull(volume, "volume");
            Objects.requireNonNull(role, "role");
        }
    }
}
