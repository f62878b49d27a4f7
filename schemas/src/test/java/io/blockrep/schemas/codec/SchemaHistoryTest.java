package io.blockrep.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.registry.AvroValueDeserializer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

/** VolumeEvent v2 (host, default null) against its v1 in the schema history, without a registry: single-object values both ways. */
class SchemaHistoryTest {
    static {
        Codecs.trustSchemaPackage();
    }

    private static final Schema V1 = SchemaHistory.earlier(VolumeEvent.getClassSchema()).get(0);

    private static GenericRecord v1Event() {
        GenericRecord r = new GenericData.Record(V1);
        r.put("volume", "vol");
        r.put("node", "site-a");
        r.put("timeMillis", 7L);
        r.put("type", new GenericData.EnumSymbol(V1.getField("type").schema(), "ERA_CLOSED"));
        r.put("era", 3L);
        r.put("detail", Map.of("regions", "12"));
        return r;
    }

    @Test
    void v2IsAFieldWithADefaultOnV1AndEachReadsTheOther() {
        assertThat(V1.getField("host")).isNull();
        assertThat(VolumeEvent.getClassSchema().getField("host").defaultVal()).isEqualTo(org.apache.avro.JsonProperties.NULL_VALUE);
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(VolumeEvent.getClassSchema(), V1).getType())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(V1, VolumeEvent.getClassSchema()).getType())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        assertThat(SchemaHistory.earlier(io.blockrep.schemas.DirtyRegion.getClassSchema())).isEmpty();
    }

    @Test
    void theV2CodecReadsSingleObjectValuesWrittenWithV1() throws Exception {
        ByteBuffer v1Bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), V1).encode(v1Event());
        byte[] bytes = new byte[v1Bytes.remaining()];
        v1Bytes.get(bytes);

        VolumeEvent read = Codecs.VOLUME_EVENT.decode(bytes);

        assertThat(read.getHost()).as("the default").isNull();
        assertThat(read.getType()).isEqualTo(EventType.ERA_CLOSED);
        assertThat(read.getEra()).isEqualTo(3L);
        try (AvroValueDeserializer plain = new AvroValueDeserializer()) {
            assertThat(plain.deserialize("blockrep.events", bytes).getSchema()).as("decoded with the schema it was written with").isEqualTo(V1);
        }
    }

    @Test
    void aV1ReaderReadsSingleObjectValuesWrittenWithV2() throws Exception {
        VolumeEvent v2 = VolumeEvent.newBuilder().setVolume("vol").setNode("site-a").setTimeMillis(9).setType(EventType.LINK_DOWN)
                .setDetail(Map.of()).setHost("storage-1").build();
        byte[] bytes = Codecs.VOLUME_EVENT.encode(v2);

        BinaryMessageDecoder<GenericRecord> v1Reader = new BinaryMessageDecoder<>(GenericData.get(), V1);
        v1Reader.addSchema(VolumeEvent.getClassSchema());
        GenericRecord read = v1Reader.decode(bytes);

        assertThat(read.getSchema()).isEqualTo(V1);
        assertThat(read.get("type").toString()).isEqualTo("LINK_DOWN");
        assertThat(List.of(read.get("volume").toString(), read.get("node").toString())).containsExactly("vol", "site-a");
    }
}
