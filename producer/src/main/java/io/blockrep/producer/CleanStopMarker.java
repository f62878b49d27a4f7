package io.blockrep.producer;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Tells an orderly stop from a crash: {@code clean-stop} in the state directory is written durably
 * at the very end of an orderly close (just before the state-directory lock is released) and removed
 * durably at start, before any volume is opened. Found at start means the last run stopped in order;
 * absent means it crashed (or never ran: a new state directory, or one from a build without the
 * marker, which is treated as a crash). Used by dirty tracking: after a crash a missing activity log
 * means every region is hot. Only the holder of the state-directory lock may call these.
 */
final class CleanStopMarker {
    static final String FILE = "clean-stop";

    private CleanStopMarker() {
    }

    /** Removes the marker durably; returns whether it was there (the last run stopped in order). */
    static boolean consume(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        try {
            boolean found = Files.deleteIfExists(file);
            if (found) {
                FileIo.forceDirectoryIfSupported(stateDir);
            }
            return found;
        } catch (IOException e) {
            throw new FatalException("cannot remove the clean-stop marker " + file + ": " + e, e);
        }
    }

    /** Writes the marker durably. */
    static void write(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        try (FileChannel ch = FileModes.openPrivate(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        FileIo.forceDirectoryIfSupported(stateDir);
    }
}
