package io.blockrep.replayer.status;

import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.dlq.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds one record of a dirty or events topic into its volume's {@link VolumeStatus} and forwards the
 * new value to the status sink. A record that does not decode (a key that is no {@link DirtyKey} or
 * volume id, a value that is no record of its type) is counted, logged once with its
 * topic/partition/offset, forwarded as it is to the DLQ sink with the {@link DeadLetters#headers dead-letter headers}, and skipped.
 *
 * <p>State (Streams stores, in memory, restored from their changelogs): the status per volume; the live
 * regions ({@code volume/node/era/region} to {@code regionSize/firstWriteMillis}), so that a region
 * counts once and its tombstone takes exactly it away; and a time index
 * ({@code volume/node/firstWriteMillis/era/region}) whose first entry per node is the oldest dirty write.
 * Every record of a volume must reach the same task: the dirty topic is partitioned by volume and the
 * events topic keyed by it, with the same hash and, as {@code TopicAdmin} creates them, the same
 * partition count. Not thread-safe: one Streams task owns an instance.
 */
final class StatusFold implements Processor<byte[], byte[], Object, Object> {
    /** The {@value DeadLetters#READER} header of the records the status app dead-letters. */
    static final String READER = "status-app";
    static final String STATUS_STORE = "blockrep-status";
    static final String REGION_STORE = "blockrep-status-regions";
    static final String OLDEST_STORE = "blockrep-status-oldest";
    static final String STATUS_SINK = "status-sink";
    static final String DLQ_SINK = "dlq-sink";
    private static final Logger LOG = LoggerFactory.getLogger(StatusFold.class);
    private static final StringSerializer PREFIX = new StringSerializer();

    private final Set<String> dirtyTopics;
    private final StatusCodecs codecs;
    private final AtomicLong poisonCount;
    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, VolumeStatus> statuses;
    private KeyValueStore<String, String> regions;
    private KeyValueStore<String, String> oldest;

    StatusFold(Set<String> dirtyTopics, StatusCodecs codecs, AtomicLong poisonCount) {
        this.dirtyTopics = dirtyTopics;
        this.codecs = codecs;
        this.poisonCount = poisonCount;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.statuses = context.getStateStore(STATUS_STORE);
        this.regions = context.getStateStore(REGION_STORE);
        this.oldest = context.getStateStore(OLDEST_STORE);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata origin = context.recordMetadata().orElseThrow();
        if (dirtyTopics.contains(origin.topic())) {
            dirty(record, origin);
        } else {
            event(record, origin);
        }
    }

    private void dirty(Record<byte[], byte[]> record, RecordMetadata origin) {
        DirtyKey key;
        Object value;
        try {
            key = DirtyKey.parse(record.key());
            value = record.value() == null ? null
                    : key.isEraClosed() ? codecs.eraClosed().decode(record.value()) : codecs.dirtyRegion().decode(record.value());
        } catch (RuntimeException e) {
            poison(record, origin, e);
            return;
        }
        VolumeStatus status = load(key.volume());
        VolumeStatus.NodeStatus node = status.node(key.node());
        if (key.isEraClosed()) {
            if (value != null) {
                node.lastClosedEra = node.lastClosedEra == null ? key.era() : Math.max(node.lastClosedEra, key.era());
                node.seenEra(key.era() + 1);
            }
        } else if (value != null) {
            node.seenEra(key.era());
            dirtied(key, (DirtyRegion) value, node);
        } else {
            cleaned(key, node);
        }
        store(status, record.timestamp());
    }

    private void dirtied(DirtyKey key, DirtyRegion region, VolumeStatus.NodeStatus node) {
        String k = key.text();
        String before = regions.get(k);
        if (before != null) {
            oldest.delete(timeKey(key, firstWrite(before)));
        } else {
            node.dirtyRegions++;
            node.dirtyBytes += region.getRegionSize();
            node.dirtyRegionsByEra.merge(key.era(), 1L, Long::sum);
        }
        regions.put(k, region.getRegionSize() + "/" + region.getFirstWriteMillis());
        oldest.put(timeKey(key, region.getFirstWriteMillis()), "");
        node.oldestDirtyWriteMillis = oldestOf(key.volume(), key.node());
    }

    private void cleaned(DirtyKey key, VolumeStatus.NodeStatus node) {
        String before = regions.delete(key.text());
        if (before == null) {
            return; // a second tombstone, or one whose region record this app never saw
        }
        int slash = before.indexOf('/');
        node.dirtyRegions--;
        node.dirtyBytes -= Integer.parseInt(before.substring(0, slash));
        if (node.dirtyRegionsByEra.merge(key.era(), -1L, Long::sum) <= 0) {
            node.dirtyRegionsByEra.remove(key.era());
        }
        oldest.delete(timeKey(key, firstWrite(before)));
        node.oldestDirtyWriteMillis = oldestOf(key.volume(), key.node());
    }

    private Long oldestOf(String volume, String node) {
        String prefix = volume + "/" + node + "/";
        try (KeyValueIterator<String, String> it = oldest.prefixScan(prefix, PREFIX)) {
            if (!it.hasNext()) {
                return null;
            }
            String k = it.next().key;
            return Long.parseLong(k.substring(prefix.length(), k.indexOf('/', prefix.length())));
        }
    }

    private static String timeKey(DirtyKey key, long firstWriteMillis) {
        return key.volume() + "/" + key.node() + "/" + String.format("%019d", Math.max(0, firstWriteMillis)) + "/" + key.era() + "/"
                + key.region();
    }

    private static long firstWrite(String regionValue) {
        return Long.parseLong(regionValue.substring(regionValue.indexOf('/') + 1));
    }

    private void event(Record<byte[], byte[]> record, RecordMetadata origin) {
        VolumeEvent e;
        try {
            if (record.key() == null) {
                throw new IllegalArgumentException("event without a key");
            }
            if (record.value() == null) {
                throw new IllegalArgumentException("event without a value");
            }
            e = codecs.volumeEvent().decode(record.value());
            String key = new String(record.key(), StandardCharsets.UTF_8);
            if (!key.equals(e.getVolume())) {
                throw new IllegalArgumentException("key '" + abbreviate(key) + "' is not the event's volume '" + e.getVolume() + "'");
            }
        } catch (RuntimeException failure) {
            poison(record, origin, failure);
            return;
        }
        VolumeStatus status = load(e.getVolume());
        EventFold.apply(status, e);
        store(status, Math.max(record.timestamp(), e.getTimeMillis()));
    }

    private VolumeStatus load(String volume) {
        VolumeStatus s = statuses.get(volume);
        return s != null ? s : new VolumeStatus(volume);
    }

    private void store(VolumeStatus status, long timestamp) {
        status.updatedMillis = Math.max(status.updatedMillis, timestamp);
        statuses.put(status.volume, status);
        context.forward(new Record<Object, Object>(status.volume, status, timestamp), STATUS_SINK);
    }

    private void poison(Record<byte[], byte[]> record, RecordMetadata origin, RuntimeException why) {
        long n = poisonCount.incrementAndGet();
        String reason = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
        LOG.warn("status app: skipping a record of {}-{} at offset {} that does not decode ({}), copied to the DLQ ({} so far)",
                origin.topic(), origin.partition(), origin.offset(), reason, n);
        Headers headers = DeadLetters.headers(record.headers(), origin.topic(), origin.partition(), origin.offset(), READER, reason);
        context.forward(new Record<Object, Object>(record.key(), record.value(), record.timestamp(), headers), DLQ_SINK);
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    /** How one decoded event changes a status; pure, so the rules read in one place. */
    static final class EventFold {
        private EventFold() {
        }

        static void apply(VolumeStatus status, VolumeEvent e) {
            long t = e.getTimeMillis();
            EventType type = e.getType();
            String mode = e.getMode() == null ? null : e.getMode().toString();
            String role = e.getRole() == null ? null : e.getRole().toString();
            Long era = e.getEra();
            if (status.lastEvent == null || t >= status.lastEvent.timeMillis) {
                VolumeStatus.LastEvent last = new VolumeStatus.LastEvent();
                last.type = type.name();
                last.node = e.getNode().toString();
                last.mode = mode;
                last.role = role;
                last.era = era;
                last.timeMillis = t;
                status.lastEvent = last;
            }
            switch (type) {
                case REPLAY_STARTED, REPLAY_PROGRESS, REPLAY_FINISHED -> replay(status, e, type, era, t);
                case OTHER -> {
                    if (mode != null) {
                        node(status, e, mode, role, era, t);
                    }
                }
                default -> node(status, e, mode, role, era, t);
            }
        }

        private static void replay(VolumeStatus status, VolumeEvent e, EventType type, Long era, long t) {
            VolumeStatus.Replay r = status.replay;
            if (r != null && t < r.timeMillis) {
                return; // an older event arriving late
            }
            r = new VolumeStatus.Replay();
            Map<String, String> d = detail(e);
            r.by = e.getNode().toString();
            r.era = era;
            r.state = type.name();
            r.bytesDone = number(d.get("bytesDone"));
            r.bytesTotal = number(d.get("bytesTotal"));
            r.regionsSkipped = number(d.get("regionsSkipped"));
            r.bytesPerSecond = number(d.get("bytesPerSecond"));
            r.timeMillis = t;
            status.replay = r;
        }

        private static void node(VolumeStatus status, VolumeEvent e, String mode, String role, Long era, long t) {
            if (mode == null && role == null && era == null) {
                return; // LINK_DOWN and the like: a facility event without state; lastEvent has it
            }
            VolumeStatus.NodeStatus n = status.node(e.getNode().toString());
            if (mode != null && (n.modeMillis == null || t >= n.modeMillis)) {
                n.mode = mode;
                n.modeMillis = t;
                n.modeReason = detail(e).get("reason");
                if (role == null) {
                    role = mode.equals("SECONDARY") ? "SECONDARY" : "PRIMARY";
                }
            }
            if (role != null && (n.roleMillis == null || t >= n.roleMillis)) {
                n.role = role;
                n.roleMillis = t;
            }
            if (era != null) {
                if (e.getType() == EventType.ERA_CLOSED) {
                    n.lastClosedEra = n.lastClosedEra == null ? era : Math.max(n.lastClosedEra, era);
                    n.seenEra(era + 1);
                } else {
                    n.seenEra(era);
                }
            }
        }

        private static Map<String, String> detail(VolumeEvent e) {
            Map<String, String> out = new java.util.HashMap<>();
            e.getDetail().forEach((k, v) -> out.put(k.toString(), v.toString()));
            return out;
        }

        private static long number(String s) {
            if (s == null) {
                return 0;
            }
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException notANumber) {
                return 0;
            }
        }
    }
}
