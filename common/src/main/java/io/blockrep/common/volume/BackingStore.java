package io.blockrep.common.volume;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileModes;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** File-system facts about a volume's backing path: regular file or block device, and its size. */
final class BackingStore {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private BackingStore() {
    }

    static boolean isBlockDevice(Path path) throws IOException {
        if (!Files.exists(path)) {
            return false;
        }
        Object mode = Files.getAttribute(path, "unix:mode");
        return mode instanceof Integer m && (m & S_IFMT) == S_IFBLK;
    }

    /** Size in bytes. For a block device, fstat reports 0, so the kernel's sysfs count of 512-byte sectors is used. */
    static long sizeOf(Path path) throws IOException {
        if (isBlockDevice(path)) {
            long rdev = ((Number) Files.getAttribute(path, "unix:rdev")).longValue();
            long major = (rdev >>> 8) & 0xfff;
            long minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
            Path sectors = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
            return Long.parseLong(Files.readString(sectors).trim()) * 512;
        }
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(path)) {
            throw new FatalException(path + " is neither a regular file nor a block device");
        }
        return Files.size(path);
    }

    /** Creates a sparse file of {@code size} bytes, mode 0600 (missing parents 0700); no data blocks are allocated. */
    static void createSparse(Path path, long size) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            FileModes.createPrivateDirectories(parent);
        }
        FileModes.createPrivateFile(path);
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(size);
            f.getFD().sync();
        }
    }
}
