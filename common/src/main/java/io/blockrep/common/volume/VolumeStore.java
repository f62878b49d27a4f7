package io.blockrep.common.volume;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A facility's state directory: one folder per volume, {@code <state>/volumes/<id>/}, holding
 * {@code volume.json} (see {@link VolumeMetadataFile}) and, for file-backed volumes created
 * without an explicit path, the sparse data file {@code data.img}. Later components (bitmaps,
 * activity log, journal) keep their files in the same folder.
 *
 * <p>Least privilege: the directories are 0700 and every file blockrep writes here 0600, whatever
 * the umask ({@link FileModes}); {@link #restrictModes()} tightens a tree made by an older build.
 */
public final class VolumeStore {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeStore.class);
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
     * What {@link #create(NewVolume)} needs. {@code node} names the generation a copy over existing
     * data starts in (may be empty); {@code assumeClean} says the operator knows the copies of this
     * volume on both sides are identical (or both empty): no initial sync.
     *
     * @param path backing file or device; {@code null} means {@code <volumeDir>/data.img}
     */
    public record NewVolume(String id, Path path, long size, int regionSize, Role role, String node, boolean assumeClean) {
        public NewVolume {
            node = node == null ? "" : node;
        }
    }

    /** {@link #create(NewVolume)} without a node id and without {@code assumeClean}. */
    public VolumeMetadata create(String id, Path path, long size, int regionSize, Role role) {
        return create(new NewVolume(id, path, size, regionSize, role, "", false));
    }

    /**
     * Creates a volume: a sparse backing file of the given size (unless {@code path} is an existing
     * block device or an existing file of exactly that size) and its metadata file.
     *
     * <p>A new sparse file, or an existing one that holds only holes and zeros, equals a fresh peer's
     * copy: generation {@link Generation#CREATED}, nothing to sync. An existing file or device that
     * holds data does not: a PRIMARY starts in a new generation of its own (so a fresh peer is older
     * and takes a full sync from it) with its {@link InitialSync} PENDING; a SECONDARY starts in an
     * unrelated generation (a primary attaches it only after {@code blockrep replay --full}), since
     * its data came from elsewhere. {@code assumeClean} skips both, logged.
     */
    public VolumeMetadata create(NewVolume spec) {
        String id = spec.id();
        List<String> problems = new ArrayList<>();
        if (!VolumeId.isValid(id)) {
            problems.add("'" + id + "' is not a valid volume id: use 1-63 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        problems.addAll(RegionGeometry.problems(spec.size(), spec.regionSize()));
        if (!problems.isEmpty()) {
            throw new InvalidInputException(problems, 64);
        }
        if (exists(id)) {
            throw new InvalidInputException("volume '" + id + "' already exists in " + stateDir);
        }
        RegionGeometry geometry = new RegionGeometry(spec.size(), spec.regionSize());
        Path data = (spec.path() == null ? volumeDir(id).resolve(DEFAULT_DATA_FILE) : spec.path()).toAbsolutePath();
        boolean existed;
        try {
            existed = prepareBacking(data, spec.size());
        } catch (IOException e) {
            throw new FatalException("cannot create backing file " + data + ": " + e.getMessage(), e);
        }
        VolumeMetadata meta = new VolumeMetadata(id, data, geometry, spec.role());
        if (spec.assumeClean()) {
            LOG.warn("volume {}: created with assume-clean: {} is taken to hold the same data as the peer's copy (or both to be empty); "
                    + "no initial sync is run and nothing checks it (blockrep verify {} compares the copies)", id, data, id);
        } else if (existed) {
            meta = overExistingData(meta, spec.node());
        }
        VolumeMetadataFile.write(metadataFile(id), meta);
        return meta;
    }

    /** Creates the sparse file when missing; returns whether the backing store already existed (with data, maybe). */
    private static boolean prepareBacking(Path data, long size) throws IOException {
        if (BackingStore.isBlockDevice(data)) {
            long device = BackingStore.sizeOf(data);
            if (device < size) {
                throw new InvalidInputException("block device " + data + " holds " + device + " bytes, less than " + size);
            }
            return true;
        }
        if (Files.exists(data)) {
            long existing = Files.size(data);
            if (existing != size) {
                throw new InvalidInputException(data + " already exists with " + existing
                        + " bytes; refusing to resize it to " + size + " (remove it or give its exact size)");
            }
            return true;
        }
        BackingStore.createSparse(data, size);
        return false;
    }

    /** The metadata of a volume created over an existing file or device: scanned for data first. */
    private static VolumeMetadata overExistingData(VolumeMetadata meta, String node) {
        long first;
        try (FileChannel ch = FileChannel.open(meta.path(), StandardOpenOption.READ)) {
            first = new ZeroScanner().firstNonZero(meta.geometry(), (offset, dst) -> {
                if (!FileIo.readFully(ch, dst, offset)) {
                    throw new IOException("unexpected end of " + meta.path() + " at " + offset);
                }
            });
        } catch (IOException e) {
            throw new FatalException("cannot read " + meta.path() + " to find its data: " + e.getMessage(), e);
        }
        if (first < 0) {
            LOG.info("volume {}: {} holds only holes and zeros; it equals a fresh copy, no initial sync needed", meta.id(), meta.path());
            return meta;
        }
        long now = System.currentTimeMillis();
        if (meta.role() == Role.PRIMARY) {
            VolumeMetadata m = meta.withGenerations(GenerationHistory.created().diverge(node, now)).withInitialSync(InitialSync.PENDING);
            LOG.info("volume {}: {} holds data (region {} is the first that does): new generation {}; its first peer gets an "
                    + "initial sync of every region that holds data", meta.id(), meta.path(), first, m.generations().current().idText());
            return m;
        }
        VolumeMetadata m = meta.withGenerations(GenerationHistory.unrelated(node, now));
        LOG.warn("volume {}: SECONDARY over {}, which holds data of its own: generation {}, unrelated to any primary's. "
                + "The primary attaches it after blockrep replay {} --full (copies every region), or create it with "
                + "--assume-clean when both copies are known to be identical", meta.id(), meta.path(), m.generations().current().idText(),
                meta.id());
        return m;
    }

    /**
     * Tightens the state directory to owner-only: itself and every directory below it 0700, every
     * regular file 0600 (symbolic links, devices and other special files are left alone). Each
     * change is logged; returns how many paths changed.
     */
    public int restrictModes() {
        try {
            return FileModes.restrictTree(stateDir);
        } catch (IOException e) {
            throw new FatalException("cannot check the modes of " + stateDir + ": " + e.getMessage(), e);
        }
    }

    public VolumeMetadata load(String id) {
        if (!exists(id)) {
            throw new InvalidInputException("no volume '" + id + "' in " + stateDir + " (create it with: blockrep volume create)");
        }
        return VolumeMetadataFile.read(metadataFile(id));
    }

    /**
     * Whether the volume's folder holds state that only a volume that ran leaves behind (eras.json, a bitmap, a data-set
     * journal): then a missing {@value #METADATA_FILE} is damage, not a volume still to be created.
     */
    public boolean hasTrackingState(String id) {
        Path dir = volumeDir(id);
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .anyMatch(n -> n.equals("eras.json") || n.endsWith(".bitmap") || n.equals("journal"));
        } catch (IOException e) {
            throw new FatalException("cannot list " + dir + ": " + e.getMessage(), e);
        }
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
