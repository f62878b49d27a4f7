package io.blockrep.producer.dirty;

import io.blockrep.common.FatalException;
import java.nio.file.Path;

/**
 * A bitmap file that cannot be trusted as a whole: missing, truncated, a bad or foreign header, an
 * unknown format. Distinct from an I/O error, so that the owner can be conservative (treat every
 * region the file could cover as dirty or hot) instead of refusing to start.
 */
public final class CorruptBitmapException extends FatalException {
    private final Path file;
    private final String cause;

    public CorruptBitmapException(Path file, String cause) {
        super("bitmap " + file + " " + cause);
        this.file = file;
        this.cause = cause;
    }

    public CorruptBitmapException(Path file, String cause, Throwable e) {
        super("bitmap " + file + " " + cause, e);
        this.file = file;
        this.cause = cause;
    }

    public Path file() {
        return file;
    }

    /** What is wrong, without the file name: "is truncated: ...", "does not exist". */
    public String problem() {
        return cause;
    }
}
