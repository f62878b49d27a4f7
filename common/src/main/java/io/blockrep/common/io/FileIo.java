package io.blockrep.common.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Positional file I/O loops and directory fsync, shared by every file format of blockrep. Stateless. */
public final class FileIo {
    private FileIo() {
    }

    /** Fills {@code dst} from {@code position}; returns false when the file ends first. */
    public static boolean readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                return false;
            }
            pos += n;
        }
        return true;
    }

    /** Writes all of {@code src} at {@code position}; returns the position after the last byte written. */
    public static long writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
        return pos;
    }

    /** Makes a directory's entries (a created, renamed or deleted file) durable. */
    public static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * As {@link #forceDirectory}, for callers whose correctness does not depend on it: some file
     * systems refuse to open a directory for fsync, and nothing more can be done there.
     */
    public static void forceDirectoryIfSupported(Path dir) {
        try {
            forceDirectory(dir);
        } catch (IOException ignored) {
            // not supported by this file system
        }
    }
}
