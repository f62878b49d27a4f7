package io.blockrep.producer.nbd;

import io.blockrep.common.InvalidInputException;

/** A write reached an export that has become read-only since the client connected (a demoted volume); NBD answers EPERM. */
public final class ReadOnlyExportException extends InvalidInputException {
    public ReadOnlyExportException(String message) {
        super(message);
    }
}
