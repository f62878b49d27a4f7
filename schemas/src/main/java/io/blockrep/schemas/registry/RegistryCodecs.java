package io.blockrep.schemas.registry;

import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.codec.RecordCodec;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The codecs of blockrep's value types for one deployment: with a registry, each writes the
 * Confluent wire format under its subject (see {@link TopicSubjects}) and reads both formats;
 * without one, the single-object codecs of {@link Codecs} that also recognise (and reject as poison)
 * a Confluent value. Build once at start: with a registry this talks to it (register or look up,
 * set BACKWARD, register the key schemas) and throws if it cannot.
 */
public record RegistryCodecs(RecordCodec<DirtyRegion> dirtyRegion, RecordCodec<EraClosed> eraClosed, RecordCodec<VolumeEvent> volumeEvent) {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryCodecs.class);

    /** Single-object encoding, as without a registry. */
    public static RegistryCodecs withoutRegistry() {
        return new RegistryCodecs(DualFormatCodec.withoutRegistry(Codecs.DIRTY_REGION), DualFormatCodec.withoutRegistry(Codecs.ERA_CLOSED),
                DualFormatCodec.withoutRegistry(Codecs.VOLUME_EVENT));
    }

    /**
     * For readers: both formats, Confluent values resolved by the id they name through {@code client}.
     * Talks to the registry only when a value names an id not seen before; nothing is registered, and
     * the codecs cannot encode.
     */
    public static RegistryCodecs forReading(SchemaRegistryClient client) {
        Codecs.trustSchemaPackage();
        return new RegistryCodecs(DualFormatCodec.withRegistry(ConfluentWireCodec.reading(client, DirtyRegion.getClassSchema()), Codecs.DIRTY_REGION),
                DualFormatCodec.withRegistry(ConfluentWireCodec.reading(client, EraClosed.getClassSchema()), Codecs.ERA_CLOSED),
                DualFormatCodec.withRegistry(ConfluentWireCodec.reading(client, VolumeEvent.getClassSchema()), Codecs.VOLUME_EVENT));
    }

    /**
     * With a registry. {@code autoRegister}: set each value subject to BACKWARD, register the
     * schemas and the {@code string} key schemas when missing; otherwise only look the value schemas
     * up and fail with a {@link SchemaRegistryException} naming the first one that is absent.
     *
     * @throws SchemaRegistryUnavailableException when the registry cannot be reached (retriable)
     */
    public static RegistryCodecs withRegistry(SchemaRegistryClient client, String dirtyTopic, String eventsTopic, boolean autoRegister) {
        Codecs.trustSchemaPackage();
        String dirtySubject = TopicSubjects.value(dirtyTopic);
        String closedSubject = TopicSubjects.valueOfRecord(dirtyTopic, EraClosed.getClassSchema());
        String eventsSubject = TopicSubjects.value(eventsTopic);
        RecordCodec<DirtyRegion> dirty = codec(client, dirtySubject, DirtyRegion.getClassSchema(), autoRegister);
        RecordCodec<EraClosed> closed = codec(client, closedSubject, EraClosed.getClassSchema(), autoRegister);
        RecordCodec<VolumeEvent> events = codec(client, eventsSubject, VolumeEvent.getClassSchema(), autoRegister);
        if (autoRegister) {
            TopicSubjects.registerStringKey(client, dirtyTopic);
            TopicSubjects.registerStringKey(client, eventsTopic);
        }
        LOG.info("values in the Confluent wire format, schemas at {} (subjects {}, {}, {})", client.settings().url(), dirtySubject, closedSubject,
                eventsSubject);
        return new RegistryCodecs(DualFormatCodec.withRegistry(dirty, Codecs.DIRTY_REGION), DualFormatCodec.withRegistry(closed, Codecs.ERA_CLOSED),
                DualFormatCodec.withRegistry(events, Codecs.VOLUME_EVENT));
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> RecordCodec<T> codec(SchemaRegistryClient client, String subject,
            Schema schema, boolean autoRegister) {
        if (!autoRegister) {
            return ConfluentWireCodec.lookingUp(client, subject, schema);
        }
        ensureBackward(client, subject);
        return ConfluentWireCodec.registering(client, subject, schema);
    }

    /**
     * Sets the subject to BACKWARD. Two services starting at once race here: Apicurio answers the second PUT with
     * 409 "A rule named 'COMPATIBILITY' already exists" (seen with two facilities on one registry). That is no
     * refusal when the rule the other one set is BACKWARD; the PUT is tried once more when it is not.
     */
    static void ensureBackward(SchemaRegistryClient client, String subject) {
        try {
            client.setCompatibility(subject, Compatibility.BACKWARD);
        } catch (SchemaRegistryException e) {
            if (!e.isIncompatible()) {
                throw e;
            }
            if (client.compatibility(subject) != Compatibility.BACKWARD) {
                client.setCompatibility(subject, Compatibility.BACKWARD);
            }
        }
    }
}
