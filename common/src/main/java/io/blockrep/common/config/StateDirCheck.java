package io.blockrep.common.config;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeMetadataFile;
import io.blockrep.common.volume.VolumeStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks configured volumes against the metadata already on disk ({@code volume.json} under the state
 * directory): a volume is never resized, its region size never changes, its backing path stays.
 * Read-only, so {@code blockrep config check} can run it offline beside a live facility.
 *
 * <p>What it does not judge: a state directory or a volume folder that does not exist yet (the
 * facility creates it), and a metadata file it cannot read or parse — how the facility treats damaged
 * local state is decided at start, not here. Thread-safe (no state).
 */
public final class StateDirCheck {
    private StateDirCheck() {
    }

    /** One configured volume; a null field was not configured validly and is not compared. */
    public record Expected(String id, Long size, Long regionSize, Path path) {
    }

    /**
     * A problem per disagreement, as {@code <keyPrefix><id>.size: ...}; empty when {@code stateDir} is null,
     * missing or unreadable.
     */
    public static List<String> problems(Path stateDir, String keyPrefix, List<Expected> volumes) {
        List<String> problems = new ArrayList<>();
        if (stateDir == null || !Files.isDirectory(stateDir) || !Files.isReadable(stateDir)) {
            return problems;
        }
        VolumeStore store = new VolumeStore(stateDir);
        for (Expected v : volumes) {
            VolumeMetadata meta = read(store, v.id());
            if (meta != null) {
                problems.addAll(problems(meta, keyPrefix, v));
            }
        }
        return problems;
    }

    /**
     * A problem per way {@code v} disagrees with the volume's recorded {@code meta} (size, region size,
     * backing path), as {@code <keyPrefix><id>.size: ...}; the facility runs this on the metadata it loaded.
     */
    public static List<String> problems(VolumeMetadata meta, String keyPrefix, Expected v) {
        List<String> problems = new ArrayList<>();
        String prefix = keyPrefix + v.id() + ".";
        if (v.size() != null && meta.size() != v.size()) {
            problems.add(prefix + "size: configured " + Sizes.format(v.size()) + " but the volume is "
                    + Sizes.format(meta.size()) + " (volumes are not resized)");
        }
        if (v.regionSize() != null && meta.regionSize() != v.regionSize()) {
            problems.add(prefix + "region.size: configured " + Sizes.format(v.regionSize()) + " but the volume uses "
                    + Sizes.format(meta.regionSize()));
        }
        if (v.path() != null && !v.path().toAbsolutePath().equals(meta.path())) {
            problems.add(prefix + "path: configured " + v.path().toAbsolutePath() + " but the volume is backed by " + meta.path());
        }
        return problems;
    }

    private static VolumeMetadata read(VolumeStore store, String id) {
        try {
            Path file = store.metadataFile(id);
            return Files.isReadable(file) ? VolumeMetadataFile.read(file) : null;
        } catch (BlockrepException | IllegalArgumentException e) {
            return null;
        }
    }
}
