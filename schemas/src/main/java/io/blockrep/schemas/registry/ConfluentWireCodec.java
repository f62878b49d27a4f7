package io.blockrep.schemas.registry;

import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.codec.AvroLimits;
import io.blockrep.schemas.codec.RecordCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * The Confluent wire format: magic byte {@code 0}, the writer schema's registry id as 4 bytes big
 * endian, then Avro binary. Encodes with one schema under one id; decodes any id, resolving the
 * writer schema it names (looked up once per id, then cached) into this codec's schema by Avro's
 * schema resolution, so a reader of v2 reads v1 records and the reverse.
 *
 * <p>Decoding failures: bytes that are not this format, an id the registry does not know, or a
 * writer schema that cannot be resolved into ours are a {@link PoisonRecordException}; a registry
 * that cannot be reached while looking up a new id is a {@link SchemaRegistryUnavailableException}
 * (retriable; the record is not poison). Strings, bytes and collections are bounded by
 * {@link AvroLimits}. Thread-safe.
 */
public final class ConfluentWireCodec<T> implements RecordCodec<T> {
    /** The first byte of every value in this format. */
    public static final byte MAGIC = 0;
    /** Magic byte and schema id. */
    public static final int HEADER_LENGTH = 5;

    static {
        AvroLimits.apply();
    }

    private final int schemaId;
    /** False for a codec that only reads: it has no id of its own, and resolves every id through the registry. */
    private final boolean writes;
    private final Schema schema;
    private final GenericData model;
    private final IntFunction<Schema> writerSchemas;
    private final DatumWriter<T> writer;
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    /**
     * @param schemaId      the registry id of {@code schema}, written into every encoded value
     * @param schema        the schema values are written with and read into
     * @param model         {@link SpecificData#get()} for generated classes, {@link GenericData#get()} for generic records
     * @param writerSchemas the schema of a registry id, e.g. {@code client::schemaById} (called once per id not seen before)
     */
    public ConfluentWireCodec(int schemaId, Schema schema, GenericData model, IntFunction<Schema> writerSchemas) {
        this(schemaId, true, schema, model, writerSchemas);
    }

    private ConfluentWireCodec(int schemaId, boolean writes, Schema schema, GenericData model, IntFunction<Schema> writerSchemas) {
        this.schemaId = schemaId;
        this.writes = writes;
        this.schema = Objects.requireNonNull(schema, "schema");
        this.model = Objects.requireNonNull(model, "model");
        this.writerSchemas = Objects.requireNonNull(writerSchemas, "writerSchemas");
        @SuppressWarnings("unchecked")
        DatumWriter<T> w = (DatumWriter<T>) model.createDatumWriter(schema);
        this.writer = w;
    }

    /** A codec for a generated class: registers {@code schema} under {@code subject} (auto.register=true) and uses its id. */
    public static <T extends SpecificRecord> ConfluentWireCodec<T> registering(SchemaRegistryClient client, String subject, Schema schema) {
        return new ConfluentWireCodec<>(client.register(subject, schema), schema, SpecificData.get(), client::schemaById);
    }

    /**
     * A codec for a generated class whose schema must already be registered under {@code subject}
     * (auto.register=false); a {@link SchemaRegistryException} (404) that says so when it is not.
     */
    public static <T extends SpecificRecord> ConfluentWireCodec<T> lookingUp(SchemaRegistryClient client, String subject, Schema schema) {
        RegisteredSchema found = client.lookUp(subject, schema).orElseThrow(() -> new SchemaRegistryException("schema registry at "
                + client.settings().url() + " has no schema " + schema.getFullName() + " (as this version of blockrep writes it) under subject '"
                + subject + "', and auto-registration is off: register it, or turn auto-registration on", 404, 40403));
        return new ConfluentWireCodec<>(found.id(), schema, SpecificData.get(), client::schemaById);
    }

    /**
     * A codec for a generated class that only decodes: it needs no id of its own (so nothing is registered
     * or looked up until a value names an id), and {@link #encode} throws. What a reader uses.
     */
    public static <T extends SpecificRecord> ConfluentWireCodec<T> reading(SchemaRegistryClient client, Schema schema) {
        return new ConfluentWireCodec<>(-1, false, schema, SpecificData.get(), client::schemaById);
    }

    /** The registry id this codec writes. */
    public int schemaId() {
        return schemaId;
    }

    public Schema schema() {
        return schema;
    }

    /** Whether {@code bytes} start like this format (magic 0 and room for an id); says nothing of the rest. */
    public static boolean looksLikeConfluent(byte[] bytes) {
        return bytes != null && bytes.length >= HEADER_LENGTH && bytes[0] == MAGIC;
    }

    /** The schema id in a value of this format; a {@link PoisonRecordException} if it is not one. */
    public static int schemaIdOf(byte[] bytes) {
        if (!looksLikeConfluent(bytes)) {
            throw new PoisonRecordException("not the Confluent wire format (magic byte 0, 4-byte schema id): "
                    + (bytes == null ? "no value" : bytes.length + " bytes" + (bytes.length > 0 ? " starting 0x" + String.format("%02x", bytes[0]) : "")));
        }
        return ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
    }

    @Override
    public byte[] encode(T record) {
        if (!writes) {
            throw new IllegalStateException("a reading-only codec of " + schema.getFullName() + " cannot encode");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(MAGIC);
        out.write(schemaId >>> 24);
        out.write(schemaId >>> 16);
        out.write(schemaId >>> 8);
        out.write(schemaId);
        try {
            BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
            writer.write(record, enc);
            enc.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @Override
    public T decode(byte[] bytes) {
        int id = schemaIdOf(bytes);
        DatumReader<T> reader = readers.get(id);
        if (reader == null) {
            reader = readerFor(id);
        }
        try {
            BinaryDecoder dec = DecoderFactory.get().binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH, null);
            return reader.read(null, dec);
        } catch (IOException | RuntimeException e) {
            throw new PoisonRecordException("not a " + schema.getName() + " (Confluent wire format, schema id " + id + "): " + e.getMessage(), e);
        }
    }

    private DatumReader<T> readerFor(int id) {
        Schema writerSchema;
        try {
            writerSchema = writes && id == schemaId ? schema : writerSchemas.apply(id);
        } catch (SchemaRegistryException e) {
            throw new PoisonRecordException(PoisonRecordException.Kind.UNKNOWN_SCHEMA, "schema id " + id + " of a " + schema.getName() + " value is not in the registry: " + e.getMessage(), e);
        }
        // a writer schema ours cannot read shows here, once per id, not as a failure in every record
        SchemaCompatibility.SchemaPairCompatibility compat = SchemaCompatibility.checkReaderWriterCompatibility(schema, writerSchema);
        if (compat.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new PoisonRecordException("schema id " + id + " (" + writerSchema.getFullName() + ") cannot be read as "
                    + schema.getFullName() + ": " + compat.getResult().getIncompatibilities());
        }
        @SuppressWarnings("unchecked")
        DatumReader<T> reader = (DatumReader<T>) model.createDatumReader(writerSchema, schema);
        DatumReader<T> raced = readers.putIfAbsent(id, reader);
        return raced == null ? reader : raced;
    }
}
