package io.blockrep.schemas.registry;

import io.blockrep.common.RetriableException;

/**
 * The registry could not be asked: connection refused, timeout, TLS failure, or a 5xx answer. It may
 * clear by itself; a writer keeps its records (the bitmap is the outbox) and a reader must not treat
 * the record it was decoding as poison.
 */
public class SchemaRegistryUnavailableException extends RetriableException {
    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public SchemaRegistryUnavailableException(String message) {
        super(message);
    }
}
