package io.blockrep.common.volume;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a facility remembers about one volume between runs: id, backing path, geometry and role.
 * Persisted by {@link VolumeMetadataFile}. Later fields (generation history) are added with a
 * format version bump.
 */
public record VolumeMetadata(String id, Path path, RegionGeometry geometry, Role role) {
    public VolumeMetadata {
        VolumeId.require(id);
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(geometry, "geometry");
        Objects.requireNonNull(role, "role");
    }

    public long size() {
        return geometry.size();
    }

    public int regionSize() {
        return geometry.regionSize();
    }

    public VolumeMetadata withRole(Role newRole) {
        return new VolumeMetadata(id, path, geometry, newRole);
    }
}
