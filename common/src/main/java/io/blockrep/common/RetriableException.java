package io.blockrep.common;

/** A condition that may clear by itself: link down, broker timeout, peer busy. Exit code 75 (EX_TEMPFAIL). */
public class RetriableException extends BlockrepException {
    public RetriableException(String message) {
        super(message);
    }

    public RetriableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return 75;
    }
}
