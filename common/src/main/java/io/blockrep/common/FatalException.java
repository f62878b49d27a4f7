package io.blockrep.common;

/** A condition retrying cannot fix: corrupt file, incompatible format, I/O failure. Exit code 74 (EX_IOERR). */
public class FatalException extends BlockrepException {
    public FatalException(String message) {
        super(message);
    }

    public FatalException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return 74;
    }
}
