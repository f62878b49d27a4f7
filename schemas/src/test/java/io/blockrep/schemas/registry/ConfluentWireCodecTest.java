package io.blockrep.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/** The Confluent framing, schema resolution by id and the two-format reader, with a map standing in for the registry. */
class ConfluentWireCodecTest {
    static {
        Codecs.trustSchemaPackage();
    }

    private static final DirtyRegion V1 = DirtyRegion.newBuilder().setFirstWriteMillis(1_700_000_000_000L).setRegionSize(65536)
            .setVolumeSize(1L << 30).setCause(DirtyCause.IN_FLIGHT).build();

    private final Map<Integer, Schema> registry = new HashMap<>();
    private final AtomicInteger lookups = new AtomicInteger();
    private final IntFunction<Schema> byId = id -> {
        lookups.incrementAndGet();
        Schema s = registry.get(id);
        if (s == null) {
            throw new SchemaRegistryException("Schema " + id + " not found.", 404, 40403);
        }
        return s;
    };

    static Schema fixture(String name) throws IOException {
        try (InputStream in = ConfluentWireCodecTest.class.getResourceAsStream(name)) {
            return new Schema.Parser().parse(in);
        }
    }

    @Test
    void writesMagicZeroThenTheIdBigEndianThenAvroBinary() {
        ConfluentWireCodec<DirtyRegion> codec = new ConfluentWireCodec<>(0x01020304, DirtyRegion.getClassSchema(), SpecificData.get(), byId);
        byte[] bytes = codec.encode(V1);
        assertThat(bytes).startsWith(0, 1, 2, 3, 4);
        assertThat(ConfluentWireCodec.schemaIdOf(bytes)).isEqualTo(0x01020304);
        assertThat(codec.decode(bytes)).isEqualTo(V1);
        assertThat(lookups).as("its own id needs no lookup").hasValue(0);
    }

    @Test
    void eachValueTypeRoundTrips() {
        VolumeEvent e = VolumeEvent.newBuilder().setVolume("v").setNode("site-a").setTimeMillis(1).setType(EventType.MODE_CHANGED)
                .setMode("LOGGING").setDetail(Map.of("reason", "ack timeout")).build();
        EraClosed c = EraClosed.newBuilder().setClosedMillis(5).setRegionCount(7).build();
        ConfluentWireCodec<VolumeEvent> ec = new ConfluentWireCodec<>(3, VolumeEvent.getClassSchema(), SpecificData.get(), byId);
        ConfluentWireCodec<EraClosed> cc = new ConfluentWireCodec<>(4, EraClosed.getClassSchema(), SpecificData.get(), byId);
        assertThat(ec.decode(ec.encode(e))).isEqualTo(e);
        assertThat(cc.decode(cc.encode(c))).isEqualTo(c);
    }

    @Test
    void aV2ReaderReadsV1AndAV1ReaderReadsV2ResolvingEachWriterIdOnce() throws IOException {
        Schema v2 = fixture("DirtyRegion-v2.avsc");
        registry.put(1, DirtyRegion.getClassSchema());
        registry.put(2, v2);
        ConfluentWireCodec<DirtyRegion> v1Codec = new ConfluentWireCodec<>(1, DirtyRegion.getClassSchema(), SpecificData.get(), byId);
        ConfluentWireCodec<GenericRecord> v2Codec = new ConfluentWireCodec<>(2, v2, GenericData.get(), byId);

        GenericRecord readByV2 = v2Codec.decode(v1Codec.encode(V1));
        assertThat(readByV2.get("regionSize")).isEqualTo(65536);
        assertThat(readByV2.get("clientAddress")).isNull();

        GenericRecord written = new GenericData.Record(v2);
        written.put("firstWriteMillis", 9L);
        written.put("regionSize", 4096);
        written.put("volumeSize", 1L << 20);
        written.put("cause", new GenericData.EnumSymbol(v2.getField("cause").schema(), "LOGGED_WRITE"));
        written.put("clientAddress", "10.0.0.7:40000");
        byte[] v2Bytes = v2Codec.encode(written);
        assertThat(v1Codec.decode(v2Bytes)).isEqualTo(DirtyRegion.newBuilder().setFirstWriteMillis(9).setRegionSize(4096)
                .setVolumeSize(1L << 20).setCause(DirtyCause.LOGGED_WRITE).build());
        v1Codec.decode(v2Bytes);
        assertThat(lookups).as("one lookup per unseen id (id 1 by the v2 reader, id 2 by the v1 reader)").hasValue(2);
    }

    @Test
    void unknownIdsGarbageAndUnreadableWriterSchemasArePoison() {
        ConfluentWireCodec<DirtyRegion> codec = new ConfluentWireCodec<>(1, DirtyRegion.getClassSchema(), SpecificData.get(), byId);
        assertThatThrownBy(() -> codec.decode(new byte[] {0, 0, 0, 0, 99, 1, 2})).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("schema id 99").hasMessageContaining("not in the registry");
        assertThatThrownBy(() -> codec.decode(new byte[] {0, 0, 0})).isInstanceOf(PoisonRecordException.class);
        assertThatThrownBy(() -> codec.decode(new byte[] {7, 0, 0, 0, 1})).isInstanceOf(PoisonRecordException.class);
        assertThatThrownBy(() -> codec.decode(null)).isInstanceOf(PoisonRecordException.class);
        assertThatThrownBy(() -> codec.decode(new byte[] {0, 0, 0, 0, 1})).as("a body cut short").isInstanceOf(PoisonRecordException.class);
        registry.put(5, VolumeEvent.getClassSchema());
        assertThatThrownBy(() -> codec.decode(new byte[] {0, 0, 0, 0, 5, 0})).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("cannot be read as io.blockrep.schemas.DirtyRegion");
    }

    @Test
    void aRegistryThatIsDownIsNotPoison() {
        ConfluentWireCodec<DirtyRegion> codec = new ConfluentWireCodec<>(1, DirtyRegion.getClassSchema(), SpecificData.get(), id -> {
            throw new SchemaRegistryUnavailableException("schema registry at http://127.0.0.1:1 is unreachable");
        });
        assertThatThrownBy(() -> codec.decode(new byte[] {0, 0, 0, 0, 2, 0})).isInstanceOf(SchemaRegistryUnavailableException.class);
    }

    /** The Avro limits of SingleObjectCodec hold here too: a value declaring a 2 GiB string is poison, not an allocation. */
    @Test
    void aValueDeclaringAHugeStringIsPoison() {
        ConfluentWireCodec<VolumeEvent> codec = new ConfluentWireCodec<>(3, VolumeEvent.getClassSchema(), SpecificData.get(), byId);
        // volume: a string whose zig-zag varint length is 0x7ffffff0
        byte[] poison = {0, 0, 0, 0, 3, (byte) 0xe0, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 'x'};
        assertThatThrownBy(() -> codec.decode(poison)).isInstanceOf(PoisonRecordException.class).hasMessageContaining("exceeds maximum allowed");
    }

    @Test
    void theDualReaderTellsTheFormatsApartByTheirFirstBytes() {
        ConfluentWireCodec<DirtyRegion> confluent = new ConfluentWireCodec<>(1, DirtyRegion.getClassSchema(), SpecificData.get(), byId);
        DualFormatCodec<DirtyRegion> withRegistry = DualFormatCodec.withRegistry(confluent, Codecs.DIRTY_REGION);
        DualFormatCodec<DirtyRegion> without = DualFormatCodec.withoutRegistry(Codecs.DIRTY_REGION);

        byte[] framed = withRegistry.encode(V1);
        byte[] single = without.encode(V1);
        assertThat(framed[0]).isEqualTo((byte) 0);
        assertThat(single).startsWith(0xC3, 0x01);
        assertThat(withRegistry.decode(framed)).isEqualTo(V1);
        assertThat(withRegistry.decode(single)).isEqualTo(V1);
        assertThat(without.decode(single)).isEqualTo(V1);
        assertThatThrownBy(() -> without.decode(framed)).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("schema id 1").hasMessageContaining("no schema registry is configured");
        assertThatThrownBy(() -> withRegistry.decode("garbage".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isInstanceOf(PoisonRecordException.class).hasMessageContaining("starting 0x67");
        assertThatThrownBy(() -> withRegistry.decode(new byte[0])).isInstanceOf(PoisonRecordException.class);
    }

    @Test
    void thePlainDeserializerReadsSingleObjectValuesAndTombstonesWithoutARegistry() {
        AvroValueDeserializer d = new AvroValueDeserializer();
        d.configure(Map.of(), false);
        GenericRecord r = d.deserialize("blockrep.dirty", Codecs.DIRTY_REGION.encode(V1));
        assertThat(r.getSchema().getFullName()).isEqualTo("io.blockrep.schemas.DirtyRegion");
        assertThat(r.get("regionSize")).isEqualTo(65536);
        assertThat(d.deserialize("blockrep.dirty", null)).isNull();
        assertThatThrownBy(() -> d.deserialize("blockrep.dirty", new byte[] {0, 0, 0, 0, 1, 2})).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("no schema.registry.url");
        assertThatThrownBy(() -> d.deserialize("blockrep.dirty", new byte[] {9, 9})).isInstanceOf(PoisonRecordException.class);
    }
}
