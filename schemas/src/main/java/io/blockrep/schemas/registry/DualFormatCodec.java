package io.blockrep.schemas.registry;

import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.codec.RecordCodec;
import java.util.Objects;

/**
 * Writes one format and reads both: the Confluent wire format (first byte {@code 00}) and Avro
 * single-object encoding (first bytes {@code C3 01}), told apart by the first bytes. Without a
 * registry a Confluent value cannot be decoded (its schema is known only by id) and is reported as
 * poison with a message that says so. Thread-safe if its codecs are.
 */
public final class DualFormatCodec<T> implements RecordCodec<T> {
    private final RecordCodec<T> writeWith;
    private final RecordCodec<T> singleObject;
    private final RecordCodec<T> confluent;

    private DualFormatCodec(RecordCodec<T> writeWith, RecordCodec<T> singleObject, RecordCodec<T> confluent) {
        this.writeWith = writeWith;
        this.singleObject = Objects.requireNonNull(singleObject, "singleObject");
        this.confluent = confluent;
    }

    /** With a registry: writes the Confluent wire format, reads both. */
    public static <T> DualFormatCodec<T> withRegistry(RecordCodec<T> confluent, RecordCodec<T> singleObject) {
        return new DualFormatCodec<>(Objects.requireNonNull(confluent, "confluent"), singleObject, confluent);
    }

    /** Without a registry: writes single-object encoding, reads it, and reports Confluent values as poison. */
    public static <T> DualFormatCodec<T> withoutRegistry(RecordCodec<T> singleObject) {
        return new DualFormatCodec<>(singleObject, singleObject, null);
    }

    @Override
    public byte[] encode(T record) {
        return writeWith.encode(record);
    }

    @Override
    public T decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new PoisonRecordException(bytes == null ? "no value" : "an empty value");
        }
        if (bytes.length >= 2 && bytes[0] == (byte) 0xC3 && bytes[1] == 0x01) {
            return singleObject.decode(bytes);
        }
        if (bytes[0] == ConfluentWireCodec.MAGIC) {
            if (confluent == null) {
                throw new PoisonRecordException(PoisonRecordException.Kind.UNKNOWN_SCHEMA, "a value in the Confluent wire format (schema id "
                        + (bytes.length >= ConfluentWireCodec.HEADER_LENGTH ? Integer.toString(ConfluentWireCodec.schemaIdOf(bytes)) : "cut short")
                        + ") but no schema registry is configured to resolve it");
            }
            return confluent.decode(bytes);
        }
        throw new PoisonRecordException(String.format("neither Avro single-object encoding (C3 01) nor the Confluent wire format (00): "
                + "%d bytes starting 0x%02x", bytes.length, bytes[0]));
    }
}
