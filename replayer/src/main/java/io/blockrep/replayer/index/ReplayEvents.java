package io.blockrep.replayer.index;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * Publishes a replay's {@link VolumeEvent}s (REPLAY_STARTED, REPLAY_PROGRESS, REPLAY_FINISHED), and
 * a finished verify's (OTHER, {@code kind=VERIFY_FINISHED}), to
 * {@code <prefix>events}, keyed by volume id so one volume's events stay in order. Figures go in the
 * event's detail map: {@code bytesDone}, {@code bytesTotal}, {@code regionsSkipped},
 * {@code bytesPerSecond}. Thread-safe; each call's future completes when Kafka acknowledges.
 */
public final class ReplayEvents implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final String node;
    private final Clock clock;
    private final ValueCodecs codecs;

    /** Figures of a replay so far. */
    public record Progress(long bytesDone, long bytesTotal, long regionsSkipped, double bytesPerSecond) {
        Map<String, String> detail() {
            return Map.of("bytesDone", Long.toString(bytesDone), "bytesTotal", Long.toString(bytesTotal),
                    "regionsSkipped", Long.toString(regionsSkipped), "bytesPerSecond", Long.toString(Math.round(bytesPerSecond)));
        }
    }

    /** @param node id of this replayer, reported in every event */
    public ReplayEvents(Properties clientProperties, TopicLayout layout, String node, Clock clock) {
        this(clientProperties, layout, node, clock, ValueCodecs.withoutRegistry());
    }

    /**
     * Encodes events with {@code codecs}' writers. With a registry that cannot be reached, an event's future
     * fails with a {@link RetriableException} (events are reports: the replay goes on), and the registry is
     * asked again for the next event.
     */
    public ReplayEvents(Properties clientProperties, TopicLayout layout, String node, Clock clock, ValueCodecs codecs) {
        this.codecs = codecs;
        this.producer = new KafkaProducer<>(Clients.producer(clientProperties, "blockrep-replay-events-" + node));
        this.topic = layout.events();
        this.node = node;
        this.clock = clock;
    }

    public CompletableFuture<Void> started(String volume, long era, Progress progress) {
        return publish(volume, era, EventType.REPLAY_STARTED, progress);
    }

    public CompletableFuture<Void> progress(String volume, long era, Progress progress) {
        return publish(volume, era, EventType.REPLAY_PROGRESS, progress);
    }

    public CompletableFuture<Void> finished(String volume, long era, Progress progress) {
        return publish(volume, era, EventType.REPLAY_FINISHED, progress);
    }

    /**
     * A finished verify: an {@link EventType#OTHER} event whose detail has {@code kind=VERIFY_FINISHED},
     * {@code regionsChecked}, {@code regionsDiffering}, {@code durationMillis}, {@code complete} and the
     * {@code primary} and {@code replica} node ids.
     */
    public CompletableFuture<Void> verifyFinished(String volume, Map<String, String> figures) {
        Map<String, String> detail = new java.util.HashMap<>(figures);
        detail.put("kind", "VERIFY_FINISHED");
        return send(volume, EventType.OTHER, VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(clock.millis())
                .setType(EventType.OTHER).setDetail(Map.copyOf(detail)).build());
    }

    private CompletableFuture<Void> publish(String volume, long era, EventType type, Progress progress) {
        return send(volume, type, VolumeEvent.newBuilder().setVolume(volume).setNode(node).setTimeMillis(clock.millis())
                .setType(type).setEra(era).setDetail(Map.copyOf(progress.detail())).build());
    }

    private CompletableFuture<Void> send(String volume, EventType type, VolumeEvent event) {
        CompletableFuture<Void> ack = new CompletableFuture<>();
        byte[] value;
        try {
            value = codecs.writers().volumeEvent().encode(io.blockrep.schemas.EventHost.stamped(event));
        } catch (RuntimeException e) {
            ack.completeExceptionally(e instanceof io.blockrep.common.BlockrepException ? e
                    : new RetriableException("cannot encode the " + type + " event of " + volume + ": " + e.getMessage(), e));
            return ack;
        }
        try {
            producer.send(new ProducerRecord<>(topic, volume.getBytes(StandardCharsets.UTF_8), value),
                    (metadata, e) -> {
                        if (e == null) {
                            ack.complete(null);
                        } else {
                            ack.completeExceptionally(new RetriableException(type + " event of " + volume + " failed: " + e, e));
                        }
                    });
        } catch (KafkaException e) {
            ack.completeExceptionally(new RetriableException("cannot send " + type + " event of " + volume + ": " + e, e));
        }
        return ack;
    }

    @Override
    public void close() {
        producer.close();
    }
}
