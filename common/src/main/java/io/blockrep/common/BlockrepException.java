package io.blockrep.common;

/**
 * Base of blockrep's exception family. Subclasses say whether retrying can help
 * ({@link RetriableException}) or not ({@link FatalException}); CLI exit codes follow the type.
 */
public abstract class BlockrepException extends RuntimeException {
    protected BlockrepException(String message) {
        super(message);
    }

    protected BlockrepException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Process exit code a CLI verb returns when this exception ends it. */
    public abstract int exitCode();
}
