package io.blockrep.replayer.index;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.roaringbitmap.RoaringBitmap;

/**
 * Marks regions replayed: produces tombstones (null values) for their dirty keys, and for era-closed
 * markers, into the partition {@link TopicLayout#partitionFor} gives the volume. Idempotent producer,
 * acks=all: tombstones of one volume land in the order they were sent, so tombstoning an era's regions
 * and then its marker leaves the marker tombstone after them (what {@link DirtySetIndex} expects).
 *
 * <p>Thread-safe (one KafkaProducer, which is). The partition count is read once, at construction.
 */
public final class Tombstoner implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final int partitions;

    /**
     * @param clientProperties bootstrap servers and any other client settings
     * @throws RetriableException if the dirty topic's partitions cannot be read
     */
    public Tombstoner(Properties clientProperties, TopicLayout layout, Duration timeout) {
        this.topic = layout.dirty();
        this.producer = new KafkaProducer<>(Clients.producer(clientProperties, "blockrep-tombstoner"));
        try {
            this.partitions = producer.partitionsFor(topic).size();
        } catch (KafkaException e) {
            producer.close(timeout);
            throw new RetriableException("cannot read the partitions of " + topic + ": " + e, e);
        }
    }

    /** Tombstones every region of {@code regions}; completes with their count once all are acknowledged. */
    public CompletableFuture<Long> tombstoneRegions(String volume, String node, long era, RoaringBitmap regions) {
        int partition = TopicLayout.partitionFor(volume, partitions);
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        regions.forEach((int r) -> acks.add(send(partition, DirtyKey.region(volume, node, era, Integer.toUnsignedLong(r)))));
        long count = acks.size();
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).thenApply(v -> count);
    }

    /** Tombstones the era-closed marker of {@code era}; send it after the era's last region tombstone. */
    public CompletableFuture<Void> tombstoneMarker(String volume, String node, long era) {
        return send(TopicLayout.partitionFor(volume, partitions), DirtyKey.eraClosed(volume, node, era));
    }

    private CompletableFuture<Void> send(int partition, DirtyKey key) {
        CompletableFuture<Void> ack = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, partition, key.bytes(), null), (metadata, e) -> {
                if (e == null) {
                    ack.complete(null);
                } else {
                    ack.completeExceptionally(new RetriableException("tombstone of " + key + " failed: " + e, e));
                }
            });
        } catch (KafkaException e) {
            ack.completeExceptionally(new RetriableException("cannot send the tombstone of " + key + ": " + e, e));
        }
        return ack;
    }

    @Override
    public void close() {
        producer.close();
    }
}
