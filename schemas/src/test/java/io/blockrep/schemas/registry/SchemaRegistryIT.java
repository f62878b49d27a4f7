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
import io.blockrep.testkit.registry.ApicurioRegistry;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client and the wire codec against a real Apicurio Registry 3.3.3 through its Confluent API
 * ({@code /apis/ccompat/v7}), basic auth required. One registry for the class; each test uses its
 * own subjects. Not tagged slow: the class took 18-24 s here (the registry starts in 12-15 s on
 * Temurin 25 on a busy 2-core machine); tag it if that grows past 30 s.
 */
class SchemaRegistryIT {
    @RegisterExtension
    static final ApicurioRegistry REGISTRY = ApicurioRegistry.create().withBasicAuth("blockrep", "registry-secret");

    static {
        Codecs.trustSchemaPackage();
    }

    private static final DirtyRegion REGION = DirtyRegion.newBuilder().setFirstWriteMillis(1_700_000_000_000L).setRegionSize(65536)
            .setVolumeSize(1L << 30).setCause(DirtyCause.LOGGED_WRITE).build();

    /** A new client each time: an empty cache, so lookups by id go to the registry. */
    private static SchemaRegistryClient client() {
        return new SchemaRegistryClient(SchemaRegistrySettings.builder(REGISTRY.ccompatUrl()).basicAuth("blockrep", "registry-secret").build());
    }

    @Test
    void registersLooksUpAndCaches() {
        SchemaRegistryClient c = client();
        int id = c.register("reg.dirty-value", DirtyRegion.getClassSchema());
        assertThat(c.register("reg.dirty-value", DirtyRegion.getClassSchema())).isEqualTo(id);
        assertThat(client().register("reg.dirty-value", DirtyRegion.getClassSchema())).as("registering again is a no-op").isEqualTo(id);
        assertThat(client().lookUp("reg.dirty-value", DirtyRegion.getClassSchema())).contains(new RegisteredSchema("reg.dirty-value", 1, id));
        assertThat(client().schemaById(id)).isEqualTo(DirtyRegion.getClassSchema());
        assertThat(client().lookUp("reg.dirty-value", EraClosed.getClassSchema())).as("not under this subject").isEmpty();
        assertThat(client().lookUp("reg.absent-value", DirtyRegion.getClassSchema())).as("no such subject").isEmpty();
        assertThatThrownBy(() -> client().schemaById(987_654)).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.isNotFound()).isTrue()).hasMessageContaining("987654");
    }

    @Test
    void everyValueSchemaRoundTripsThroughTheWireCodecAndAFreshReaderResolvesItById() {
        RegistryCodecs writer = RegistryCodecs.withRegistry(client(), "rt.dirty", "rt.events", true);
        RegistryCodecs reader = RegistryCodecs.withRegistry(client(), "rt.dirty", "rt.events", false);
        VolumeEvent event = VolumeEvent.newBuilder().setVolume("vol-1").setNode("site-a").setTimeMillis(5).setType(EventType.ERA_CLOSED)
                .setEra(3L).setDetail(Map.of("regions", "12")).build();
        EraClosed closed = EraClosed.newBuilder().setClosedMillis(6).setRegionCount(12).build();

        byte[] dirtyBytes = writer.dirtyRegion().encode(REGION);
        byte[] closedBytes = writer.eraClosed().encode(closed);
        byte[] eventBytes = writer.volumeEvent().encode(event);
        assertThat(reader.dirtyRegion().decode(dirtyBytes)).isEqualTo(REGION);
        assertThat(reader.eraClosed().decode(closedBytes)).isEqualTo(closed);
        assertThat(reader.volumeEvent().decode(eventBytes)).isEqualTo(event);

        SchemaRegistryClient c = client();
        assertThat(c.schemaById(ConfluentWireCodec.schemaIdOf(dirtyBytes))).isEqualTo(DirtyRegion.getClassSchema());
        assertThat(c.schemaById(ConfluentWireCodec.schemaIdOf(closedBytes))).isEqualTo(EraClosed.getClassSchema());
        assertThat(c.schemaById(ConfluentWireCodec.schemaIdOf(eventBytes))).isEqualTo(VolumeEvent.getClassSchema());
        // a plain reader holding only the id-resolving codec (what a registry-aware consumer does)
        ConfluentWireCodec<GenericRecord> generic = new ConfluentWireCodec<>(-1, VolumeEvent.getClassSchema(), GenericData.get(), c::schemaById);
        assertThat(generic.decode(eventBytes).get("node").toString()).isEqualTo("site-a");

        // what a plain Kafka consumer with our deserializer does, configured as for Confluent's
        try (AvroValueDeserializer plain = new AvroValueDeserializer()) {
            plain.configure(Map.of(AvroValueDeserializer.URL, REGISTRY.ccompatUrl(), AvroValueDeserializer.USER_INFO, "blockrep:registry-secret"),
                    false);
            assertThat(plain.deserialize("rt.dirty", dirtyBytes).get("regionSize")).isEqualTo(65536);
            assertThat(plain.deserialize("rt.dirty", closedBytes).get("regionCount")).isEqualTo(12L);
            assertThat(plain.deserialize("rt.events", eventBytes).get("era")).isEqualTo(3L);
        }

        assertThat(c.lookUp(TopicSubjects.key("rt.dirty"), TopicSubjects.STRING_KEY)).isPresent();
        assertThat(c.lookUp(TopicSubjects.key("rt.events"), TopicSubjects.STRING_KEY)).isPresent();
        assertThat(c.compatibility(TopicSubjects.value("rt.dirty"))).isEqualTo(Compatibility.BACKWARD);
        assertThat(c.compatibility(TopicSubjects.value("rt.events"))).isEqualTo(Compatibility.BACKWARD);
        assertThat(reader.dirtyRegion().decode(Codecs.DIRTY_REGION.encode(REGION))).as("single-object values still read").isEqualTo(REGION);
        assertThatThrownBy(() -> reader.dirtyRegion().decode(new byte[] {0, 0x7f, 0, 0, 1, 2})).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("not in the registry");
    }

    @Test
    void withoutAutoRegistrationAnAbsentSchemaRefusesClearly() {
        assertThatThrownBy(() -> RegistryCodecs.withRegistry(client(), "noauto.dirty", "noauto.events", false))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isNotFound()).isTrue())
                .hasMessageContaining("io.blockrep.schemas.DirtyRegion").hasMessageContaining("'noauto.dirty-value'")
                .hasMessageContaining("auto-registration is off");
    }

    @Test
    void underBackwardAV2ReaderReadsV1RecordsAndAV1ReaderReadsV2Records() throws IOException {
        Schema v2 = ConfluentWireCodecTest.fixture("DirtyRegion-v2.avsc");
        String subject = "evo.dirty-value";
        SchemaRegistryClient c = client();
        c.setCompatibility(subject, Compatibility.BACKWARD);
        assertThat(c.compatibility(subject)).isEqualTo(Compatibility.BACKWARD);
        ConfluentWireCodec<DirtyRegion> v1Writer = ConfluentWireCodec.registering(c, subject, DirtyRegion.getClassSchema());
        assertThat(c.isCompatible(subject, v2)).isTrue();
        int v2Id = c.register(subject, v2);
        assertThat(v2Id).isNotEqualTo(v1Writer.schemaId());
        assertThat(c.lookUp(subject, v2)).map(RegisteredSchema::version).contains(2);

        SchemaRegistryClient consumer = client();
        ConfluentWireCodec<GenericRecord> v2Codec = new ConfluentWireCodec<>(v2Id, v2, GenericData.get(), consumer::schemaById);
        GenericRecord seenByV2 = v2Codec.decode(v1Writer.encode(REGION));
        assertThat(seenByV2.get("firstWriteMillis")).isEqualTo(REGION.getFirstWriteMillis());
        assertThat(seenByV2.get("clientAddress")).as("the default").isNull();

        GenericRecord v2Record = new GenericData.Record(v2);
        v2Record.put("firstWriteMillis", 42L);
        v2Record.put("regionSize", 4096);
        v2Record.put("volumeSize", 1L << 20);
        v2Record.put("cause", new GenericData.EnumSymbol(v2.getField("cause").schema(), "VERIFY_MISMATCH"));
        v2Record.put("clientAddress", "10.0.0.7:40000");
        ConfluentWireCodec<DirtyRegion> v1Reader = new ConfluentWireCodec<>(v1Writer.schemaId(), DirtyRegion.getClassSchema(), SpecificData.get(),
                client()::schemaById);
        assertThat(v1Reader.decode(v2Codec.encode(v2Record))).isEqualTo(DirtyRegion.newBuilder().setFirstWriteMillis(42).setRegionSize(4096)
                .setVolumeSize(1L << 20).setCause(DirtyCause.VERIFY_MISMATCH).build());
    }

    @Test
    void aNewFieldWithoutADefaultIsRejectedWith409AndTheRegistrysReason() throws IOException {
        Schema incompatible = ConfluentWireCodecTest.fixture("DirtyRegion-incompatible.avsc");
        String subject = "incompat.dirty-value";
        SchemaRegistryClient c = client();
        c.setCompatibility(subject, Compatibility.BACKWARD);
        c.register(subject, DirtyRegion.getClassSchema());
        assertThat(c.isCompatible(subject, incompatible)).isFalse();
        assertThatThrownBy(() -> c.register(subject, incompatible)).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
            assertThat(e.status()).isEqualTo(409);
            assertThat(e.isIncompatible()).isTrue();
        }).hasMessageContaining(REGISTRY.ccompatUrl()).hasMessageContaining("subject '" + subject + "'")
                .hasMessageContaining("incompatible with the subject's compatibility rule")
                .hasMessageContaining("Incompatible artifact").hasMessageContaining("regionChecksum");
        assertThat(c.lookUp(subject, incompatible)).as("not registered").isEmpty();
    }

    /**
     * Issue #14 item 2 on the production schema: VolumeEvent v2 (host, default null) is what this version writes; a
     * subject that holds v1 (an older facility registered it) takes v2 under BACKWARD, a v2 reader reads v1 values
     * and a v1 reader (a consumer built against the old schema) reads v2 values, each resolving the other's id.
     */
    @Test
    void theProductionVolumeEventV2AndItsV1ReadEachOtherThroughTheRegistry() {
        Schema v1 = io.blockrep.schemas.codec.SchemaHistory.earlier(VolumeEvent.getClassSchema()).get(0);
        SchemaRegistryClient c = client();
        c.setCompatibility("prodevo.events-value", Compatibility.BACKWARD);
        int v1Id = c.register("prodevo.events-value", v1);
        ConfluentWireCodec<GenericRecord> v1Codec = new ConfluentWireCodec<>(v1Id, v1, GenericData.get(), client()::schemaById);
        GenericRecord old = new GenericData.Record(v1);
        old.put("volume", "vol");
        old.put("node", "site-a");
        old.put("timeMillis", 11L);
        old.put("type", new GenericData.EnumSymbol(v1.getField("type").schema(), "MODE_CHANGED"));
        old.put("mode", "LOGGING");
        old.put("detail", Map.of());
        byte[] v1Bytes = v1Codec.encode(old);

        RegistryCodecs current = RegistryCodecs.withRegistry(client(), "prodevo.dirty", "prodevo.events", true);
        VolumeEvent v2 = VolumeEvent.newBuilder().setVolume("vol").setNode("site-b").setTimeMillis(12).setType(EventType.LINK_DOWN)
                .setDetail(Map.of("reason", "cut")).setHost("storage-2").build();
        byte[] v2Bytes = current.volumeEvent().encode(v2);
        int v2Id = ConfluentWireCodec.schemaIdOf(v2Bytes);
        assertThat(v2Id).isNotEqualTo(v1Id);
        assertThat(c.lookUp("prodevo.events-value", VolumeEvent.getClassSchema())).map(RegisteredSchema::version).contains(2);

        VolumeEvent seenByV2 = RegistryCodecs.forReading(client()).volumeEvent().decode(v1Bytes);
        assertThat(seenByV2.getMode()).isEqualTo("LOGGING");
        assertThat(seenByV2.getHost()).as("the default").isNull();
        GenericRecord seenByV1 = new ConfluentWireCodec<GenericRecord>(v1Id, v1, GenericData.get(), client()::schemaById).decode(v2Bytes);
        assertThat(seenByV1.getSchema()).isEqualTo(v1);
        assertThat(seenByV1.get("node").toString()).isEqualTo("site-b");
        assertThat(seenByV1.get("detail").toString()).contains("cut");
    }

    /**
     * The other incompatible change the issue names: a removed required field. BACKWARD (what blockrep sets) only
     * promises that the new schema reads old data, which a schema without the field does (it ignores it), so
     * Apicurio takes it; FORWARD and FULL promise that old readers read new data, which they cannot without the
     * field, and Apicurio refuses it with 409 and its reason, shown to the user as the registry's message.
     */
    @Test
    void aRemovedRequiredFieldIsRejectedWith409WhereOldReadersMustReadNewData() {
        Schema withoutNode = withoutField(VolumeEvent.getClassSchema(), "node");
        SchemaRegistryClient c = client();
        c.setCompatibility("removed-full.events-value", Compatibility.FULL);
        c.register("removed-full.events-value", VolumeEvent.getClassSchema());
        assertThatThrownBy(() -> c.register("removed-full.events-value", withoutNode)).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.status()).isEqualTo(409)).hasMessageContaining("subject 'removed-full.events-value'")
                .hasMessageContaining("incompatible with the subject's compatibility rule");

        c.setCompatibility("removed-backward.events-value", Compatibility.BACKWARD);
        c.register("removed-backward.events-value", VolumeEvent.getClassSchema());
        assertThat(c.isCompatible("removed-backward.events-value", withoutNode)).as("BACKWARD: the new schema reads old data").isTrue();
    }

    private static Schema withoutField(Schema record, String name) {
        java.util.List<Schema.Field> fields = new java.util.ArrayList<>();
        for (Schema.Field f : record.getFields()) {
            if (!f.name().equals(name)) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
    }

    /** Why the dirty topic's EraClosed marker has a subject of its own (TopicSubjects). */
    @Test
    void twoRecordTypesCannotShareOneSubjectUnderBackward() {
        SchemaRegistryClient c = client();
        c.setCompatibility("shared.dirty-value", Compatibility.BACKWARD);
        c.register("shared.dirty-value", DirtyRegion.getClassSchema());
        assertThatThrownBy(() -> c.register("shared.dirty-value", EraClosed.getClassSchema())).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.isIncompatible()).isTrue());
    }

    @Test
    void missingOrWrongCredentialsAre401WithAMessageSayingSo() {
        SchemaRegistryClient anonymous = new SchemaRegistryClient(SchemaRegistrySettings.builder(REGISTRY.ccompatUrl()).build());
        assertThatThrownBy(() -> anonymous.register("auth.dirty-value", DirtyRegion.getClassSchema()))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.status()).isEqualTo(401))
                .hasMessageContaining(REGISTRY.ccompatUrl()).hasMessageContaining("credentials missing or refused");
        SchemaRegistryClient wrong = new SchemaRegistryClient(SchemaRegistrySettings.builder(REGISTRY.ccompatUrl())
                .basicAuth("blockrep", "not-the-password").build());
        assertThatThrownBy(() -> wrong.schemaById(1)).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.isAuthFailure()).isTrue()).hasMessageContaining("HTTP 401");
    }
}
