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

/** Avro single-object encoding: {@code C3 01}, the schema's 64-bit fingerprint, then Avro binary. Thread-safe. */
public final class SingleObjectCodec<T extends SpecificRecord> implements RecordCodec<T> {
    /**
     * Avro's own limits on what one value may declare, far below its defaults (about 2 GiB each): a
     * poison record of 21 bytes declaring a 2 GiB string made the decoder allocate it and run the JVM
     * out of heap (found by {@code SingleObjectCodecFuzzTest}). Our values hold ids, reasons and small
     * maps, so 1 MiB strings and byte arrays and 64 Ki items per map or array are generous. Avro reads
     * the properties once, when it first checks a limit; set here before any of our decoding, unless
     * the operator set them (-D).
     */
    static final String MAX_LENGTH = Integer.toString(1 << 20);

    static {
        for (String limit : new String[] {"org.apache.avro.limits.string.maxLength", "org.apache.avro.limits.bytes.maxLength"}) {
            if (System.getProperty(limit) == null) {
                System.setProperty(limit, MAX_LENGTH);
            }
        }
        if (System.getProperty("org.apache.avro.limits.collectionItems.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.collectionItems.maxLength", Integer.toString(1 << 16));
        }
    }

    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    public SingleObjectCodec(Schema schema) {
        this.schema = schema;
        this.encoder = new BinaryMessageEncoder<>(SpecificData.get(), schema);
        this.decoder = new BinaryMessageDecoder<>(SpecificData.get(), schema);
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
