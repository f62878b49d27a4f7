package io.blockrep.schemas.registry;

import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.AvroLimits;
import io.blockrep.schemas.codec.SchemaHistory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A Kafka {@link Deserializer} for any blockrep value topic, for plain consumers and tools
 * ({@code kafka-console-consumer --property value.deserializer=...}): decodes each value with the
 * schema it was written with, into a {@link GenericRecord}. Confluent wire format values are
 * resolved by schema id through the registry named by {@value #URL} (Confluent's key, so the
 * same consumer properties work; basic auth as {@value #USER_INFO} {@code user:password}); Avro
 * single-object values by fingerprint among blockrep's own schemas. A null value (a tombstone) is
 * null. Anything else is a {@link PoisonRecordException}. Thread-safe after {@link #configure}.
 */
public final class AvroValueDeserializer implements Deserializer<GenericRecord> {
    public static final String URL = "schema.registry.url";
    public static final String USER_INFO = "basic.auth.user.info";

    static {
        AvroLimits.apply();
    }

    /** Every schema a blockrep writer may have used for single-object values: the current ones and their {@link SchemaHistory}. */
    private static final Map<Long, Schema> BY_FINGERPRINT = byFingerprint(DirtyRegion.getClassSchema(), EraClosed.getClassSchema(),
            VolumeEvent.getClassSchema());

    private static Map<Long, Schema> byFingerprint(Schema... current) {
        Map<Long, Schema> out = new java.util.HashMap<>();
        for (Schema s : current) {
            out.put(SchemaNormalization.parsingFingerprint64(s), s);
            SchemaHistory.earlier(s).forEach(e -> out.put(SchemaNormalization.parsingFingerprint64(e), e));
        }
        return Map.copyOf(out);
    }

    private volatile SchemaRegistryClient client;
    private final Map<Integer, DatumReader<GenericRecord>> readersById = new ConcurrentHashMap<>();

    public AvroValueDeserializer() {
    }

    /** Decodes Confluent values through {@code client}. */
    public AvroValueDeserializer(SchemaRegistryClient client) {
        this.client = client;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Object url = configs.get(URL);
        if (url == null || url.toString().isBlank()) {
            return;
        }
        SchemaRegistrySettings.Builder b = SchemaRegistrySettings.builder(url.toString());
        Object userInfo = configs.get(USER_INFO);
        if (userInfo != null && !userInfo.toString().isEmpty()) {
            String ui = userInfo.toString();
            int colon = ui.indexOf(':');
            b.basicAuth(colon < 0 ? ui : ui.substring(0, colon), colon < 0 ? "" : ui.substring(colon + 1));
        }
        client = new SchemaRegistryClient(b.build());
    }

    @Override
    public GenericRecord deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length >= 10 && data[0] == (byte) 0xC3 && data[1] == 0x01) {
            long fingerprint = ByteBuffer.wrap(data, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            Schema schema = BY_FINGERPRINT.get(fingerprint);
            if (schema == null) {
                throw new PoisonRecordException("a single-object value in " + topic + " with a schema fingerprint that is not a blockrep schema");
            }
            return read(new GenericDatumReader<>(schema), data, 10, topic);
        }
        int id = ConfluentWireCodec.schemaIdOf(data);
        SchemaRegistryClient c = client;
        if (c == null) {
            throw new PoisonRecordException("a Confluent wire format value in " + topic + " (schema id " + id + ") but no " + URL + " configured");
        }
        DatumReader<GenericRecord> reader = readersById.computeIfAbsent(id, i -> {
            try {
                return new GenericDatumReader<>(c.schemaById(i));
            } catch (SchemaRegistryException e) {
                throw new PoisonRecordException(PoisonRecordException.Kind.UNKNOWN_SCHEMA, "schema id " + i + " of a value in " + topic + " is not in the registry: " + e.getMessage(), e);
            }
        });
        return read(reader, data, ConfluentWireCodec.HEADER_LENGTH, topic);
    }

    private static GenericRecord read(DatumReader<GenericRecord> reader, byte[] data, int offset, String topic) {
        try {
            return reader.read(null, DecoderFactory.get().binaryDecoder(data, offset, data.length - offset, null));
        } catch (IOException | RuntimeException e) {
            throw new PoisonRecordException("a value in " + topic + " that does not decode: " + e.getMessage(), e);
        }
    }
}
