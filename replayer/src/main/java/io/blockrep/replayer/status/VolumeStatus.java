package io.blockrep.replayer.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.TreeMap;

/**
 * One value of the {@code <prefix>status} table (keyed by volume id), as JSON (see {@link StatusJson}):
 *
 * <pre>{@code
 * {"volume":"vol1","updatedMillis":1764680000000,
 *  "nodes":{"site-a":{"role":"PRIMARY","mode":"LOGGING","modeMillis":...,"modeReason":"link down: ...","era":3,
 *                     "dirtyRegions":12,"dirtyBytes":786432,"oldestDirtyWriteMillis":...,"dirtyRegionsByEra":{"3":12},
 *                     "lastClosedEra":2}},
 *  "replay":{"by":"r1","era":2,"state":"REPLAY_FINISHED","bytesDone":...,"bytesTotal":...,"regionsSkipped":0,
 *            "bytesPerSecond":...,"timeMillis":...},
 *  "lastEvent":{"type":"MODE_CHANGED","node":"site-a","mode":"LOGGING","timeMillis":...}}
 * }</pre>
 *
 * <p>Per node: role and mode from the facility's events (the latest by event time wins, so an event
 * that arrives late never overwrites a newer one), the open era (the highest era seen in a dirty key,
 * or one past the highest closed era), and the live dirty regions of that node (a region record
 * counts once, its tombstone takes it away again), their bytes and the first-write time of the oldest
 * (the RPO exposure). Replay progress and rate come from the replayer's events. JSON so that
 * {@code kafka-console-consumer} shows it as it is. Not thread-safe: a Streams task owns each value.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class VolumeStatus {
    public String volume;
    public long updatedMillis;
    public Map<String, NodeStatus> nodes = new TreeMap<>();
    public Replay replay;
    public LastEvent lastEvent;

    public VolumeStatus() {
    }

    VolumeStatus(String volume) {
        this.volume = volume;
    }

    NodeStatus node(String node) {
        return nodes.computeIfAbsent(node, n -> new NodeStatus());
    }

    /** Live dirty regions over all nodes. */
    public long dirtyRegions() {
        return nodes.values().stream().mapToLong(n -> n.dirtyRegions).sum();
    }

    /** One facility's view of the volume. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class NodeStatus {
        public String role;
        public Long roleMillis;
        public String mode;
        public Long modeMillis;
        public String modeReason;
        public Long era;
        public Long lastClosedEra;
        public long dirtyRegions;
        public long dirtyBytes;
        public Long oldestDirtyWriteMillis;
        /** Live dirty regions per era; an era leaves the map when its last region is tombstoned. */
        public Map<Long, Long> dirtyRegionsByEra = new TreeMap<>();

        void seenEra(long openEra) {
            era = era == null ? openEra : Math.max(era, openEra);
        }
    }

    /** The latest replay event of the volume (REPLAY_STARTED, REPLAY_PROGRESS, REPLAY_FINISHED). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class Replay {
        public String by;
        public Long era;
        public String state;
        public long bytesDone;
        public long bytesTotal;
        public long regionsSkipped;
        public long bytesPerSecond;
        public long timeMillis;
    }

    /** The latest event of the volume by event time, from any node. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class LastEvent {
        public String type;
        public String node;
        public String mode;
        public String role;
        public Long era;
        public long timeMillis;
    }
}
