package io.blockrep.schemas.codec;

import io.blockrep.schemas.PoisonRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding: {@code C3 01}, the schema's 64-bit fingerprint, then Avro binary.
 * Decodes values written with the schema or with any earlier version in {@link SchemaHistory}
 * (resolved into the current one). Thread-safe.
 */
public final class SingleObjectCodec<T extends SpecificRecord> implements RecordCodec<T> {
    static {
        AvroLimits.apply(); // bounded strings, bytes and collections: see AvroLimits
    }

    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    public SingleObjectCodec(Schema schema) {
        this.schema = schema;
        this.encoder = new BinaryMessageEncoder<>(SpecificData.get(), schema);
        this.decoder = new BinaryMessageDecoder<>(SpecificData.get(), schema);
        SchemaHistory.earlier(schema).forEach(decoder::addSchema);
    }

    @Override
    public byte[] encode(T record) {
        try {
            ByteBuffer buf = encoder.encode(record);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public T decode(byte[] bytes) {
        if (bytes == null) {
            throw new PoisonRecordException("no value where a " + schema.getName() + " was expected");
        }
        try {
            return decoder.decode(bytes);
        } catch (IOException | RuntimeException e) {
            throw new PoisonRecordException("not a " + schema.getName() + " (single-object encoding): " + e.getMessage(), e);
        }
    }
}
