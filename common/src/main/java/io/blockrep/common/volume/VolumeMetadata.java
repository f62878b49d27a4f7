package io.blockrep.common.volume;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a facility remembers about one volume between runs: id, backing path, geometry, role, the
 * generation history, whether the data is consistent, and where its initial sync stands.
 * {@code consistent} is false while a resync into this copy is under way (its data is then a mix of
 * old and new, and it must not be promoted without {@code --force}). Persisted by {@link VolumeMetadataFile}.
 */
public record VolumeMetadata(String id, Path path, RegionGeometry geometry, Role role, GenerationHistory generations,
                             boolean consistent, InitialSync initialSync) {
    public VolumeMetadata {
        VolumeId.require(id);
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(geometry, "geometry");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(generations, "generations");
        Objects.requireNonNull(initialSync, "initialSync");
    }

    /** No initial sync to do. */
    public VolumeMetadata(String id, Path path, RegionGeometry geometry, Role role, GenerationHistory generations,
                          boolean consistent) {
        this(id, path, geometry, role, generations, consistent, InitialSync.NONE);
    }

    /** A new volume: generation {@link Generation#CREATED}, consistent. */
    public VolumeMetadata(String id, Path path, RegionGeometry geometry, Role role) {
        this(id, path, geometry, role, GenerationHistory.created(), true);
    }

    public long size() {
        return geometry.size();
    }

    public int regionSize() {
        return geometry.regionSize();
    }

    public VolumeMetadata withRole(Role newRole) {
        return new VolumeMetadata(id, path, geometry, newRole, generations, consistent, initialSync);
    }

    public VolumeMetadata withGenerations(GenerationHistory newGenerations) {
        return new VolumeMetadata(id, path, geometry, role, newGenerations, consistent, initialSync);
    }

    public VolumeMetadata withConsistent(boolean newConsistent) {
        return new VolumeMetadata(id, path, geometry, role, generations, newConsistent, initialSync);
    }

    public VolumeMetadata withInitialSync(InitialSync newInitialSync) {
        return new VolumeMetadata(id, path, geometry, role, generations, consistent, newInitialSync);
    }
}
