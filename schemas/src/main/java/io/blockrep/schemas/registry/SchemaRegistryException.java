package io.blockrep.schemas.registry;

import io.blockrep.common.FatalException;

/**
 * The registry answered, and the answer is no: credentials refused (401/403), subject or schema not
 * found (404), incompatible with the subject's compatibility rule (409), invalid schema (422), or
 * another error. Retrying the same request gives the same answer. The message names the registry
 * URL, what was asked and the registry's own message.
 */
public class SchemaRegistryException extends FatalException {
    private final int status;
    private final int errorCode;

    public SchemaRegistryException(String message, int status, int errorCode) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    /** HTTP status of the answer. */
    public int status() {
        return status;
    }

    /** The Confluent {@code error_code} of the answer (e.g. 40401 subject not found, 40403 schema not found), or 0. */
    public int errorCode() {
        return errorCode;
    }

    public boolean isNotFound() {
        return status == 404;
    }

    public boolean isIncompatible() {
        return status == 409;
    }

    public boolean isAuthFailure() {
        return status == 401 || status == 403;
    }
}
