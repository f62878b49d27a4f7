package io.blockrep.common.volume;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A facility's state directory: one folder per volume, {@code <state>/volumes/<id>/}, holding
 * {@code volume.json} (see {@link VolumeMetadataFile}) and, for file-backed volumes created
 * without an explicit path, the sparse data file {@code data.img}. Later components (bitmaps,
 * activity log, journal) keep their files in the same folder.
 */
public final class VolumeStore {
    public static final String METADATA_FILE = "volume.json";
    public static final String DEFAULT_DATA_FILE = "data.img";

    private final Path stateDir;

    public VolumeStore(Path stateDir) {
        this.stateDir = stateDir.toAbsolutePath();
    }

    public Path stateDir() {
        return stateDir;
    }

    public Path volumeDir(String id) {
        return stateDir.resolve("volumes").resolve(VolumeId.require(id));
    }

    public Path metadataFile(String id) {
        return volumeDir(id).resolve(METADATA_FILE);
    }

    public boolean exists(String id) {
        return Files.exists(metadataFile(id));
    }

    /**
     * Creates a volume: a sparse backing file of the given size (unless {@code path} is an existing
     * block device or an existing file of exactly that size) and its metadata file.
     *
     * @param path backing file or device; {@code null} means {@code <volumeDir>/data.img}
     */
    public VolumeMetadata create(String id, Path path, long size, int regionSize, Role role) {
        List<String> problems = new ArrayList<>();
        if (!VolumeId.isValid(id)) {
            problems.add("'" + id + "' is not a valid volume id: use 1-63 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        problems.addAll(RegionGeometry.problems(size, regionSize));
        if (!problems.isEmpty()) {
            throw new InvalidInputException(problems, 64);
        }
        if (exists(id)) {
            throw new InvalidInputException("volume '" + id + "' already exists in " + stateDir);
        }
        Path data = (path == null ? volumeDir(id).resolve(DEFAULT_DATA_FILE) : path).toAbsolutePath();
        try {
            if (BackingStore.isBlockDevice(data)) {
                long device = BackingStore.sizeOf(data);
                if (device < size) {
                    throw new InvalidInputException("block device " + data + " holds " + device + " bytes, less than " + size);
                }
            } else if (Files.exists(data)) {
                long existing = Files.size(data);
                if (existing != size) {
                    throw new InvalidInputException(data + " already exists with " + existing
                            + " bytes; refusing to resize it to " + size + " (remove it or give its exact size)");
                }
            } else {
                BackingStore.createSparse(data, size);
            }
        } catch (IOException e) {
            throw new FatalException("cannot create backing file " + data + ": " + e.getMessage(), e);
        }
        VolumeMetadata meta = new VolumeMetadata(id, data, new RegionGeometry(size, regionSize), role);
        VolumeMetadataFile.write(metadataFile(id), meta);
        return meta;
    }

    public VolumeMetadata load(String id) {
        if (!exists(id)) {
            throw new InvalidInputException("no volume '" + id + "' in " + stateDir + " (create it with: blockrep volume create)");
        }
        return VolumeMetadataFile.read(metadataFile(id));
    }

    public void save(VolumeMetadata meta) {
        VolumeMetadataFile.write(metadataFile(meta.id()), meta);
    }

    /** Ids of every volume in this state directory, sorted. */
    public List<String> list() {
        Path volumes = stateDir.resolve("volumes");
        if (!Files.isDirectory(volumes)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(volumes)) {
            return dirs.filter(d -> Files.exists(d.resolve(METADATA_FILE)))
                    .map(d -> d.getFileName().toString())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new FatalException("cannot list " + volumes + ": " + e.getMessage(), e);
        }
    }
}
