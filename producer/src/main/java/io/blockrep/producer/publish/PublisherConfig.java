package io.blockrep.producer.publish;

import io.blockrep.schemas.topic.TopicLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;

/**
 * Settings of the Kafka publishers of one facility.
 *
 * @param bootstrapServers    Kafka's {@code bootstrap.servers}
 * @param node                this facility's node id, part of every dirty key
 * @param topics              topic names (prefix)
 * @param partitions          partition count of topics created by the publisher (existing topics keep theirs)
 * @param replicationFactor   replication factor of created topics; -1 for the broker default
 * @param stateDir            the facility's state directory; the partition-count guard keeps its file there
 * @param clientProperties    extra Kafka client settings passed to every client (security.protocol, sasl.*, ssl.*, ...)
 * @param hintQueueCapacity   first-touch hints queued before new ones are dropped (and a reconcile is scheduled)
 * @param eventBufferCapacity events kept while Kafka is unreachable before the oldest are dropped
 * @param reconcileInterval   how often the bitmaps are compared with what was published, hints or not
 * @param maxBlock            longest a Kafka producer call may block the publisher's thread ({@code max.block.ms})
 * @param requestTimeout      bound of one admin or consumer call, and of a stalled rebuild read
 * @param deliveryTimeout     a record not acknowledged by then counts as failed ({@code delivery.timeout.ms})
 */
public record PublisherConfig(String bootstrapServers, String node, TopicLayout topics, int partitions,
                              short replicationFactor, Path stateDir, Properties clientProperties,
                              int hintQueueCapacity, int eventBufferCapacity, Duration reconcileInterval,
                              Duration maxBlock, Duration requestTimeout, Duration deliveryTimeout) {

    public PublisherConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(stateDir, "stateDir");
        clientProperties = copy(clientProperties);
        if (partitions < 1 || hintQueueCapacity < 1 || eventBufferCapacity < 1) {
            throw new IllegalArgumentException("partitions, hintQueueCapacity and eventBufferCapacity must be positive");
        }
        if (reconcileInterval.isNegative() || reconcileInterval.isZero() || maxBlock.isNegative()
                || requestTimeout.toMillis() < 1 || deliveryTimeout.toMillis() < 100) {
            throw new IllegalArgumentException("durations must be positive (deliveryTimeout at least 100 ms)");
        }
    }

    /** Defaults: prefix {@code blockrep.}, 12 partitions, broker-default replication, 2 s max block, 30 s delivery. */
    public static PublisherConfig defaults(String bootstrapServers, String node, Path stateDir) {
        return new PublisherConfig(bootstrapServers, node, TopicLayout.defaults(), 12, (short) -1, stateDir, new Properties(),
                65_536, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    public PublisherConfig withTopics(TopicLayout t, int partitionCount) {
        return new PublisherConfig(bootstrapServers, node, t, partitionCount, replicationFactor, stateDir, clientProperties,
                hintQueueCapacity, eventBufferCapacity, reconcileInterval, maxBlock, requestTimeout, deliveryTimeout);
    }

    public PublisherConfig withReplicationFactor(short factor) {
        return new PublisherConfig(bootstrapServers, node, topics, partitions, factor, stateDir, clientProperties,
                hintQueueCapacity, eventBufferCapacity, reconcileInterval, maxBlock, requestTimeout, deliveryTimeout);
    }

    public PublisherConfig withClientProperties(Properties props) {
        return new PublisherConfig(bootstrapServers, node, topics, partitions, replicationFactor, stateDir, props,
                hintQueueCapacity, eventBufferCapacity, reconcileInterval, maxBlock, requestTimeout, deliveryTimeout);
    }

    public PublisherConfig withCapacities(int hints, int events) {
        return new PublisherConfig(bootstrapServers, node, topics, partitions, replicationFactor, stateDir, clientProperties,
                hints, events, reconcileInterval, maxBlock, requestTimeout, deliveryTimeout);
    }

    public PublisherConfig withTimeouts(Duration reconcile, Duration block, Duration request, Duration delivery) {
        return new PublisherConfig(bootstrapServers, node, topics, partitions, replicationFactor, stateDir, clientProperties,
                hintQueueCapacity, eventBufferCapacity, reconcile, block, request, delivery);
    }

    private static Properties copy(Properties p) {
        Properties c = new Properties();
        if (p != null) {
            p.stringPropertyNames().forEach(k -> c.setProperty(k, p.getProperty(k)));
        }
        return c;
    }
}
