package io.blockrep.replayer.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.schemas.dlq.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatusTopologyTest {
    private static final int R = 65536;
    private final TopicLayout layout = new TopicLayout("t.");
    private final AtomicLong poison = new AtomicLong();
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> dirty;
    private TestInputTopic<byte[], byte[]> events;
    private TestOutputTopic<String, byte[]> status;
    private TestOutputTopic<byte[], byte[]> dlq;

    @BeforeEach
    void start() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(StatusTopology.build(StatusTopics.of(layout), StatusCodecs.defaults(), poison), p);
        ByteArraySerializer b = new ByteArraySerializer();
        dirty = driver.createInputTopic(layout.dirty(), b, b);
        events = driver.createInputTopic(layout.events(), b, b);
        status = driver.createOutputTopic(layout.status(), new StringDeserializer(), new ByteArrayDeserializer());
        dlq = driver.createOutputTopic(layout.dlq(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void regionsCountOnceAndTheirTombstonesTakeThemAway() {
        region("v1", "site-a", 1, 0, 1_000);
        region("v1", "site-a", 1, 1, 2_000);
        region("v1", "site-a", 1, 1, 2_000); // republished: still one region
        region("v1", "site-a", 2, 7, 500);
        VolumeStatus.NodeStatus a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).isEqualTo(3);
        assertThat(a.dirtyBytes).isEqualTo(3L * R);
        assertThat(a.oldestDirtyWriteMillis).isEqualTo(500);
        assertThat(a.dirtyRegionsByEra).containsExactly(Map.entry(1L, 2L), Map.entry(2L, 1L));
        assertThat(a.era).isEqualTo(2);

        tombstone(DirtyKey.region("v1", "site-a", 2, 7));
        tombstone(DirtyKey.region("v1", "site-a", 2, 7)); // a second tombstone changes nothing
        a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).isEqualTo(2);
        assertThat(a.dirtyBytes).isEqualTo(2L * R);
        assertThat(a.oldestDirtyWriteMillis).as("the oldest went; the next oldest is the exposure").isEqualTo(1_000);
        assertThat(a.dirtyRegionsByEra).containsExactly(Map.entry(1L, 2L));

        // the replayed era's tombstones bring the volume to zero
        tombstone(DirtyKey.region("v1", "site-a", 1, 0));
        tombstone(DirtyKey.region("v1", "site-a", 1, 1));
        a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).isZero();
        assertThat(a.dirtyBytes).isZero();
        assertThat(a.oldestDirtyWriteMillis).isNull();
        assertThat(a.dirtyRegionsByEra).isEmpty();
        VolumeStatus last = StatusJson.read(lastOutput().value());
        assertThat(last.volume).isEqualTo("v1");
        assertThat(last.dirtyRegions()).as("the status topic's latest value").isZero();
        assertThat(poison).hasValue(0);
    }

    @Test
    void eraClosedMarkersAreNoRegionsAndOpenTheNextEra() {
        region("v1", "site-a", 3, 5, 1_000);
        dirty.pipeInput(DirtyKey.eraClosed("v1", "site-a", 3).bytes(),
                Codecs.ERA_CLOSED.encode(EraClosed.newBuilder().setClosedMillis(2_000).setRegionCount(1).build()));
        VolumeStatus.NodeStatus a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).isEqualTo(1);
        assertThat(a.lastClosedEra).isEqualTo(3);
        assertThat(a.era).as("open era").isEqualTo(4);

        tombstone(DirtyKey.region("v1", "site-a", 3, 5));
        tombstone(DirtyKey.eraClosed("v1", "site-a", 3));
        a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).isZero();
        assertThat(a.era).isEqualTo(4);
        assertThat(poison).hasValue(0);
    }

    @Test
    void eventsOutOfOrderNeverOverwriteNewerState() {
        event(mode("v1", "site-a", "LOGGING", 2_000, "link down: reset"));
        event(mode("v1", "site-a", "REPLICATING", 1_000, "peer attached")); // older, arrives later
        event(mode("v1", "site-b", "SECONDARY", 500, "demoted"));
        event(replay("v1", EventType.REPLAY_FINISHED, 3, 5_000, 100, 100));
        event(replay("v1", EventType.REPLAY_PROGRESS, 3, 4_000, 50, 100)); // older, arrives later

        VolumeStatus s = stored("v1");
        assertThat(s.nodes.get("site-a").mode).isEqualTo("LOGGING");
        assertThat(s.nodes.get("site-a").role).isEqualTo("PRIMARY");
        assertThat(s.nodes.get("site-a").modeReason).isEqualTo("link down: reset");
        assertThat(s.nodes.get("site-b").role).isEqualTo("SECONDARY");
        assertThat(s.replay.state).isEqualTo("REPLAY_FINISHED");
        assertThat(s.replay.bytesDone).isEqualTo(100);
        assertThat(s.replay.era).isEqualTo(3);
        assertThat(s.replay.by).isEqualTo("r1");
        assertThat(s.nodes).as("a replayer is no node of the volume").doesNotContainKey("r1");
        assertThat(s.lastEvent.type).isEqualTo("REPLAY_FINISHED");
        assertThat(s.lastEvent.timeMillis).isEqualTo(5_000);
    }

    @Test
    void poisonRecordsGoToTheDlqWithTheirOriginAndTheFoldGoesOn() {
        region("v1", "site-a", 1, 0, 1_000);
        dirty.pipeInput("v1/site-a/1/1".getBytes(StandardCharsets.UTF_8), "garbage".getBytes(StandardCharsets.UTF_8));
        dirty.pipeInput("not a key".getBytes(StandardCharsets.UTF_8), (byte[]) null);
        events.pipeInput("v1".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, 1, 2, 3});
        events.pipeInput("v2".getBytes(StandardCharsets.UTF_8), Codecs.VOLUME_EVENT.encode(mode("v1", "site-a", "LOGGING", 1, "x")));
        region("v1", "site-a", 1, 2, 1_500);

        assertThat(poison).hasValue(4);
        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertThat(dead).hasSize(4);
        TestRecord<byte[], byte[]> garbage = dead.get(0);
        assertThat(garbage.key()).isEqualTo("v1/site-a/1/1".getBytes(StandardCharsets.UTF_8));
        assertThat(garbage.value()).as("copied as it was").isEqualTo("garbage".getBytes(StandardCharsets.UTF_8));
        assertThat(header(garbage, DeadLetters.TOPIC)).isEqualTo(layout.dirty());
        assertThat(header(garbage, DeadLetters.PARTITION)).isEqualTo("0");
        assertThat(header(garbage, DeadLetters.OFFSET)).isEqualTo("1");
        assertThat(header(garbage, DeadLetters.READER)).isEqualTo(StatusFold.READER);
        assertThat(header(garbage, DeadLetters.REASON)).isNotBlank();
        assertThat(header(dead.get(1), DeadLetters.REASON)).contains("not a dirty key");
        assertThat(dead.get(1).value()).isNull();
        assertThat(header(dead.get(2), DeadLetters.TOPIC)).isEqualTo(layout.events());
        assertThat(header(dead.get(3), DeadLetters.REASON)).contains("is not the event's volume");

        VolumeStatus.NodeStatus a = stored("v1").nodes.get("site-a");
        assertThat(a.dirtyRegions).as("the real records either side of the poison are counted").isEqualTo(2);
        assertThat(a.mode).isNull();
        assertThat(stored("v2")).isNull();
    }

    private VolumeStatus stored(String volume) {
        KeyValueStore<String, VolumeStatus> store = driver.getKeyValueStore(StatusTopology.statusStore());
        return store.get(volume);
    }

    private TestRecord<String, byte[]> lastOutput() {
        List<TestRecord<String, byte[]>> all = status.readRecordsToList();
        return all.get(all.size() - 1);
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private void region(String volume, String node, long era, long region, long firstWrite) {
        dirty.pipeInput(DirtyKey.region(volume, node, era, region).bytes(), Codecs.DIRTY_REGION.encode(DirtyRegion.newBuilder()
                .setFirstWriteMillis(firstWrite).setRegionSize(R).setVolumeSize(64L * R).setCause(DirtyCause.LOGGED_WRITE).build()));
    }

    private void tombstone(DirtyKey key) {
        dirty.pipeInput(key.bytes(), (byte[]) null);
    }

    private void event(VolumeEvent e) {
        events.pipeInput(e.getVolume().toString().getBytes(StandardCharsets.UTF_8), Codecs.VOLUME_EVENT.encode(e));
    }

    private static VolumeEvent mode(String volume, String node, String mode, long t, String reason) {
        return VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(t).setType(EventType.MODE_CHANGED).setMode(mode)
                .setDetail(Map.of("reason", reason)).build();
    }

    private static VolumeEvent replay(String volume, EventType type, long era, long t, long done, long total) {
        return VolumeEvent.newBuilder().setVolume(volume).setNode("r1").setTimeMillis(t).setType(type).setEra(era)
                .setDetail(Map.of("bytesDone", Long.toString(done), "bytesTotal", Long.toString(total), "regionsSkipped", "0",
                        "bytesPerSecond", "1000")).build();
    }
}
