package io.blockrep.schemas.codec;

/**
 * Encodes and decodes one Avro record type to and from Kafka value bytes. Two framings exist:
 * Avro single-object encoding (magic C3 01, 8-byte schema fingerprint, binary) when no schema
 * registry is configured, and the Confluent wire format (magic 0, 4-byte schema id, binary) with
 * one. Thread-safe.
 */
public interface RecordCodec<T> {
    byte[] encode(T record);

    /** Decodes; throws {@link io.blockrep.schemas.PoisonRecordException} for bytes that are not a {@code T}. */
    T decode(byte[] bytes);
}
