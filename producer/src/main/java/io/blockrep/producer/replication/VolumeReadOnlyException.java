package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;

/** A write to a volume that is SECONDARY here: only the link writes it. The NBD export answers EPERM. */
public final class VolumeReadOnlyException extends InvalidInputException {
    public VolumeReadOnlyException(String message) {
        super(message);
    }
}
