package io.blockrep.replayer.status;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The status app's topology: the dirty and events topics (raw bytes) into {@link StatusFold}, whose
 * output goes to the compacted status topic (key: volume id, value: {@link VolumeStatus} as JSON) and,
 * for records that do not decode, to the DLQ as they were. Its stores are in memory and backed by
 * changelog topics, so a restart or a moved task rebuilds them without replaying the sources.
 */
public final class StatusTopology {
    private StatusTopology() {
    }

    /** @param poisonCount counts the records sent to the DLQ */
    public static Topology build(StatusTopics topics, StatusCodecs codecs, AtomicLong poisonCount) {
        Topology t = new Topology();
        ByteArrayDeserializer bytes = new ByteArrayDeserializer();
        t.addSource(org.apache.kafka.streams.AutoOffsetReset.earliest(), "dirty-source", bytes, bytes, topics.dirty().toArray(String[]::new));
        t.addSource(org.apache.kafka.streams.AutoOffsetReset.earliest(), "events-source", bytes, bytes, topics.events().toArray(String[]::new));
        Set<String> dirty = Set.copyOf(topics.dirty());
        t.addProcessor("fold", () -> new StatusFold(dirty, codecs, poisonCount), "dirty-source", "events-source");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(StatusFold.STATUS_STORE), Serdes.String(),
                StatusJson.serde()), "fold");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(StatusFold.REGION_STORE), Serdes.String(),
                Serdes.String()), "fold");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(StatusFold.OLDEST_STORE), Serdes.String(),
                Serdes.String()), "fold");
        t.addSink(StatusFold.STATUS_SINK, topics.status(), new StringSerializer(), StatusJson.serde().serializer(), "fold");
        t.addSink(StatusFold.DLQ_SINK, topics.dlq(), new ByteArraySerializer(), new ByteArraySerializer(), "fold");
        return t;
    }

    /** The name of the store holding a {@link VolumeStatus} per volume, for interactive queries. */
    public static String statusStore() {
        return StatusFold.STATUS_STORE;
    }
}
