package io.blockrep.schemas.registry;

/** A schema as registered under a subject: its version there and its registry-wide id. */
public record RegisteredSchema(String subject, int version, int id) {
}
