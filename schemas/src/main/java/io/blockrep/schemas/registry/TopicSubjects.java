package io.blockrep.schemas.registry;

import org.apache.avro.Schema;

/**
 * Registry subjects of blockrep's topics. Values follow the TopicNameStrategy ({@code <topic>-value})
 * where a topic carries one record type; a topic that carries several (the dirty topic: DirtyRegion
 * and the EraClosed marker) names the others by the TopicRecordNameStrategy
 * ({@code <topic>-<full record name>}), because one subject under BACKWARD cannot hold two unrelated
 * record types (the registry answers 409). Decoding needs only the id in each value, so any
 * registry-aware consumer decodes every value either way.
 *
 * <p>Keys stay plain UTF-8 text, not Confluent-framed: a schema id inside a compacted key would give
 * one logical key different bytes across schema versions and break compaction. A {@code "string"}
 * schema is registered under {@code <topic>-key} so that registry-aware tools show the keys as text.
 */
public final class TopicSubjects {
    /** The schema of every key: plain text. */
    public static final Schema STRING_KEY = Schema.create(Schema.Type.STRING);

    private TopicSubjects() {
    }

    public static String value(String topic) {
        return topic + "-value";
    }

    public static String key(String topic) {
        return topic + "-key";
    }

    /** {@code <topic>-<namespace.Name>}: for a second record type in one topic. */
    public static String valueOfRecord(String topic, Schema record) {
        return topic + "-" + record.getFullName();
    }

    /** Registers the {@code string} key schema under {@code <topic>-key}; returns its id. */
    public static int registerStringKey(SchemaRegistryClient client, String topic) {
        return client.register(key(topic), STRING_KEY);
    }
}
