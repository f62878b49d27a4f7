package io.blockrep.schemas.topic;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.utils.Utils;

/**
 * Names, policies and partitioning of blockrep's topics: {@code <prefix>dirty} (compacted),
 * {@code <prefix>events} (deleted after 7 days), {@code <prefix>status} (compacted) and
 * {@code <prefix>dlq} (records no reader could decode, copied as they were; deleted after 30 days). The default
 * prefix is {@value #DEFAULT_PREFIX}. Producer and replayer both use this class, so they always agree
 * on where a volume's records live. Immutable.
 */
public record TopicLayout(String prefix) {
    public static final String DEFAULT_PREFIX = "blockrep.";
    public static final Duration EVENTS_RETENTION = Duration.ofDays(7);
    public static final Duration DLQ_RETENTION = Duration.ofDays(30);
    private static final Pattern LEGAL_PREFIX = Pattern.compile("[a-zA-Z0-9._-]{0,200}");

    public TopicLayout {
        if (prefix == null || !LEGAL_PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("topic prefix '" + prefix
                    + "' must be at most 200 characters of a-z, A-Z, 0-9, '.', '_', '-'");
        }
    }

    public static TopicLayout defaults() {
        return new TopicLayout(DEFAULT_PREFIX);
    }

    public String dirty() {
        return prefix + "dirty";
    }

    public String events() {
        return prefix + "events";
    }

    public String status() {
        return prefix + "status";
    }

    /** The dead-letter topic: poison records copied as-is, with headers naming the reason and origin. */
    public String dlq() {
        return prefix + "dlq";
    }

    /** Topic configurations blockrep creates each topic with, keyed by topic name. */
    public Map<String, Map<String, String>> topicConfigs() {
        return Map.of(
                dirty(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT),
                events(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                        TopicConfig.RETENTION_MS_CONFIG, Long.toString(EVENTS_RETENTION.toMillis())),
                status(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT),
                dlq(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                        TopicConfig.RETENTION_MS_CONFIG, Long.toString(DLQ_RETENTION.toMillis())));
    }

    /**
     * The partition that holds every record of {@code volume}: murmur2 of the volume id's UTF-8 bytes,
     * made positive, modulo the partition count (the same hash Kafka's default partitioner uses for a
     * key). The mapping changes with the partition count, hence the partition-count guard.
     */
    public static int partitionFor(String volume, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partition count must be positive: " + partitions);
        }
        return Utils.toPositive(Utils.murmur2(volume.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
