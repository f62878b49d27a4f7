package io.blockrep.producer;

import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.producer.publish.DirtyPublisher;
import io.blockrep.producer.publish.EventPublisher;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.VolumeObserver;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import java.time.Clock;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards what the volumes do to Kafka: first touches to the dirty publisher (one record per
 * region and era), mode changes and link events to the events topic. Never blocks: both
 * publishers only queue. Without Kafka ({@code null} publishers) it only logs.
 */
final class PublishingObserver implements VolumeObserver {
    private static final Logger LOG = LoggerFactory.getLogger(PublishingObserver.class);

    private final String node;
    private final Clock clock;
    private final DirtyPublisher dirty;
    private final EventPublisher events;

    PublishingObserver(String node, Clock clock, DirtyPublisher dirty, EventPublisher events) {
        this.node = node;
        this.clock = clock;
        this.dirty = dirty;
        this.events = events;
    }

    @Override
    public void firstTouch(String volume, long era, long region, long timeMillis, DirtyCause cause) {
        if (dirty != null) {
            dirty.firstTouch(volume, era, region, timeMillis, cause);
        } else {
            LOG.debug("volume {}: region {} dirty in era {} ({})", volume, region, era, cause);
        }
    }

    @Override
    public void modeChanged(String volume, Mode from, Mode to, String reason) {
        event(volume, EventType.MODE_CHANGED, to.name(), Map.of("from", from.name(), "reason", reason));
        if (to == Mode.AWAITING_APPROVAL) {
            event(volume, EventType.APPROVAL_REQUESTED, to.name(), Map.of("reason", reason));
        } else if (from == Mode.AWAITING_APPROVAL && to == Mode.RESYNCING) {
            event(volume, EventType.APPROVAL_GIVEN, to.name(), Map.of("reason", reason));
        }
    }

    @Override
    public void eraClosed(String volume, long era, long regionCount) {
        if (dirty != null) {
            dirty.eraClosed(volume, era, regionCount);
        }
        events(volume, era, regionCount);
    }

    @Override
    public void roleChanged(String volume, Role from, Role to, String reason) {
        if (events != null) {
            events.publish(VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(clock.millis())
                    .setType(EventType.ROLE_CHANGED).setRole(to.name()).setDetail(Map.of("from", from.name(), "reason", reason)).build());
        }
    }

    @Override
    public void syncDecided(String volume, String peer, SyncDecision decision, String detail) {
        EventType type = decision == SyncDecision.SPLIT_BRAIN ? EventType.SPLIT_BRAIN : EventType.GENERATIONS_COMPARED;
        event(volume, type, null, Map.of("peer", peer, "decision", decision.name(), "detail", detail));
    }

    @Override
    public void republish(String volume, long era, org.roaringbitmap.RoaringBitmap regions) {
        if (dirty != null) {
            dirty.republish(volume, era, regions);
        }
    }

    @Override
    public void invariantViolated(String volume, String detail) {
        // OTHER with a kind, not a new EventType symbol: readers of the current schema decode it as is.
        event(volume, EventType.OTHER, Mode.LOGGING.name(), Map.of("kind", "INVARIANT_VIOLATED", "detail", detail));
    }

    private void events(String volume, long era, long regionCount) {
        if (events != null) {
            events.publish(VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(clock.millis())
                    .setType(EventType.ERA_CLOSED).setEra(era).setDetail(Map.of("regions", Long.toString(regionCount))).build());
        }
    }

    void event(String volume, EventType type, String mode, Map<String, String> detail) {
        if (events == null) {
            return;
        }
        events.publish(VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(clock.millis())
                .setType(type).setMode(mode).setDetail(detail).build());
    }
}
