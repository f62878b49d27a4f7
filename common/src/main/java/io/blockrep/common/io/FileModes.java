package io.blockrep.common.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Least privilege on disk: every directory blockrep makes for its state is {@code 0700} and every
 * file it writes (volume data, bitmaps, journals, metadata, secrets) is {@code 0600}, whatever the
 * process umask. A file is created with the private mode as its creation attribute, so it is never
 * readable by others even for an instant, and then set to that mode explicitly, because the umask
 * may remove bits from the attribute (a umask of {@code 0277} would otherwise leave it read-only).
 *
 * <p>On a file system without POSIX permissions (none on Linux; FAT, some network mounts) the
 * modes are skipped silently: nothing better can be done there.
 *
 * <p>Stateless and thread-safe.
 */
public final class FileModes {
    private static final Logger LOG = LoggerFactory.getLogger(FileModes.class);

    /** {@code rw-------}. */
    public static final Set<PosixFilePermission> PRIVATE_FILE = Set.copyOf(PosixFilePermissions.fromString("rw-------"));
    /** {@code rwx------}. */
    public static final Set<PosixFilePermission> PRIVATE_DIR = Set.copyOf(PosixFilePermissions.fromString("rwx------"));
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private FileModes() {
    }

    /** Creates {@code dir} and any missing parent, each 0700; an existing directory is left as it is. */
    public static Path createPrivateDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return dir;
        }
        Path parent = abs.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            createPrivateDirectories(parent);
        }
        try {
            if (posix(abs.getParent())) {
                Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
                setMode(abs, PRIVATE_DIR);
            } else {
                Files.createDirectory(abs);
            }
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw e;
            }
        }
        return dir;
    }

    /**
     * Opens {@code file} with {@code options}; when the open creates it, it is created 0600. An
     * existing file keeps its mode (see {@link #restrict} to tighten it).
     */
    public static FileChannel openPrivate(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        Path parent = file.toAbsolutePath().getParent();
        if (!posix(parent)) {
            return FileChannel.open(file, set);
        }
        boolean existed = Files.exists(file, LinkOption.NOFOLLOW_LINKS);
        FileChannel ch = FileChannel.open(file, set, privateFileAttribute());
        if (!existed) {
            try {
                setMode(file, PRIVATE_FILE);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        }
        return ch;
    }

    /** Creates an empty file 0600; fails if it exists. */
    public static Path createPrivateFile(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (!posix(parent)) {
            return Files.createFile(file);
        }
        Files.createFile(file, privateFileAttribute());
        setMode(file, PRIVATE_FILE);
        return file;
    }

    /** Writes {@code text} to {@code file}, replacing it, with mode 0600 (an existing file is tightened first). */
    public static void writePrivateString(Path file, String text) throws IOException {
        if (Files.exists(file)) {
            restrict(file);
        } else {
            createPrivateFile(file);
        }
        Files.writeString(file, text);
    }

    /**
     * Tightens an existing regular file to 0600 or directory to 0700 when it is looser; a symbolic
     * link, device or other special file is never touched. Returns whether the mode changed.
     */
    public static boolean restrict(Path path) throws IOException {
        PosixFileAttributes attrs = attributes(path);
        if (attrs == null || attrs.isSymbolicLink() || attrs.isOther()) {
            return false;
        }
        Set<PosixFilePermission> wanted = attrs.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE;
        if (attrs.permissions().equals(wanted)) {
            return false;
        }
        setMode(path, wanted);
        return true;
    }

    /**
     * Tightens a whole state tree: {@code root} and every directory below it to 0700, every regular
     * file to 0600. Symbolic links are not followed (a volume's data.img may link to a device the
     * operator owns). Each change is logged at INFO, a path that cannot be changed (another owner's) at
     * WARN; the count of changes is returned.
     */
    public static int restrictTree(Path root) throws IOException {
        if (!Files.isDirectory(root) || attributes(root) == null) {
            return 0;
        }
        int changed = 0;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                try {
                    PosixFileAttributes before = attributes(p);
                    if (before != null && restrict(p)) {
                        changed++;
                        LOG.info("{}: mode tightened from {} to {}", p, PosixFilePermissions.toString(before.permissions()),
                                before.isDirectory() ? "rwx------" : "rw-------");
                    }
                } catch (IOException e) {
                    // not ours to change (another owner): say so, and go on with the rest
                    LOG.warn("{}: cannot tighten its mode to owner-only: {}", p, e.toString());
                }
            }
        }
        return changed;
    }

    /**
     * Logs a WARN when {@code file} (a secret: a key, a token, a file holding a password) can be read
     * or written by its group or by others. {@code what} says what it holds. Returns whether it warned.
     * A missing file, or one on a file system without POSIX modes, is not checked.
     */
    public static boolean warnIfExposed(Path file, String what) {
        try {
            PosixFileAttributes attrs = file == null ? null : Files.readAttributes(file, PosixFileAttributes.class);
            if (attrs == null) {
                return false;
            }
            Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
            loose.addAll(attrs.permissions());
            loose.retainAll(GROUP_OR_OTHERS);
            if (loose.isEmpty()) {
                return false;
            }
            LOG.warn("{} {} but its mode is {}: other users of this host can read it; chmod 600 {}", file, what,
                    PosixFilePermissions.toString(attrs.permissions()), file);
            return true;
        } catch (UnsupportedOperationException | IOException e) {
            return false;
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> privateFileAttribute() {
        return PosixFilePermissions.asFileAttribute(PRIVATE_FILE);
    }

    private static void setMode(Path path, Set<PosixFilePermission> mode) throws IOException {
        Files.setPosixFilePermissions(path, mode);
    }

    private static PosixFileAttributes attributes(Path path) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return null;
        }
        return view.readAttributes();
    }

    private static boolean posix(Path existingDir) {
        Path probe = existingDir == null ? Path.of("").toAbsolutePath() : existingDir;
        return probe.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
