package io.blockrep.replayer.index;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The replayer group's lag on the dirty topic, from the Admin API, as {@code kafka-consumer-groups
 * --describe} computes it: per partition, end offset minus committed offset. The service commits the
 * offset of the oldest record not yet replayed ({@link DirtyTopicFollower}), so the lag is zero exactly
 * when nothing is left to copy. A partition the group has no committed offset for counts whole (end
 * minus log start): the group has not shown that it holds nothing. A volume's records all go to one
 * partition ({@link TopicLayout#partitionFor}), so a volume's lag is its partition's, shared with any
 * other volume mapped there.
 */
public final class ReplayerLag {
    private ReplayerLag() {
    }

    /** One partition of the dirty topic: committed offset (null when the group has none), end offset, lag, known volumes. */
    public record PartitionLag(int partition, Long committed, long end, long lag, List<String> volumes) {
    }

    /** A volume, the partition its records go to, and that partition's lag. */
    public record VolumeLag(String volume, int partition, long lag) {
    }

    /** The group's state (STABLE, EMPTY, ...) and member count, and the lag of every partition and of every volume asked for. */
    public record Report(String group, String topic, String state, int members, List<PartitionLag> partitions,
                         List<VolumeLag> volumes) {
        public long totalLag() {
            return partitions.stream().mapToLong(PartitionLag::lag).sum();
        }
    }

    /**
     * Measures {@code group}'s lag on {@code topic}; {@code volumes} (may be empty) are mapped to their partitions.
     *
     * @throws RetriableException    Kafka did not answer within {@code timeout}, or failed
     * @throws InvalidInputException the group or the topic does not exist
     */
    public static Report measure(Properties clientProperties, String group, String topic, Collection<String> volumes,
                                 Duration timeout) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "blockrep-lag");
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        Admin admin = Admin.create(p);
        try {
            ConsumerGroupDescription description = describe(admin, group, timeout);
            TopicDescription t = get(admin.describeTopics(List.of(topic)).allTopicNames(), timeout, "describe topic " + topic).get(topic);
            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata(), timeout, "list the offsets of group " + group);
            if (description.groupState() == GroupState.DEAD && committed.isEmpty()) {
                throw new InvalidInputException("consumer group '" + group + "' does not exist (no members, no committed offsets)"
                        + "; is the replayer service running with this replayer.group.id?");
            }
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            t.partitions().forEach(i -> {
                latest.put(new TopicPartition(topic, i.partition()), OffsetSpec.latest());
                earliest.put(new TopicPartition(topic, i.partition()), OffsetSpec.earliest());
            });
            Map<TopicPartition, ListOffsetsResultInfo> ends = get(admin.listOffsets(latest).all(), timeout, "list end offsets");
            Map<TopicPartition, ListOffsetsResultInfo> starts = get(admin.listOffsets(earliest).all(), timeout, "list start offsets");
            int count = t.partitions().size();
            Map<Integer, List<String>> byPartition = new HashMap<>();
            for (String v : new TreeSet<>(volumes)) {
                byPartition.computeIfAbsent(TopicLayout.partitionFor(v, count), k -> new ArrayList<>()).add(v);
            }
            List<PartitionLag> partitions = new ArrayList<>();
            Map<Integer, Long> lagOf = new HashMap<>();
            for (int i = 0; i < count; i++) {
                TopicPartition tp = new TopicPartition(topic, i);
                long end = ends.get(tp).offset();
                OffsetAndMetadata c = committed.get(tp);
                long lag = Math.max(0, end - (c != null ? c.offset() : starts.get(tp).offset()));
                lagOf.put(i, lag);
                partitions.add(new PartitionLag(i, c == null ? null : c.offset(), end, lag, byPartition.getOrDefault(i, List.of())));
            }
            List<VolumeLag> perVolume = new TreeSet<>(volumes).stream()
                    .map(v -> new VolumeLag(v, TopicLayout.partitionFor(v, count), lagOf.get(TopicLayout.partitionFor(v, count))))
                    .toList();
            return new Report(group, topic, description.groupState().toString(), description.members().size(), partitions, perVolume);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted while asking Kafka for the lag of group " + group, e);
        } finally {
            admin.close(Duration.ofSeconds(1));
        }
    }

    private static ConsumerGroupDescription describe(Admin admin, String group, Duration timeout) throws InterruptedException {
        return get(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group), timeout, "describe group " + group);
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future, Duration timeout, String what) throws InterruptedException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RetriableException("Kafka did not answer within " + timeout.toSeconds() + " s (" + what
                    + "): is the broker reachable at the bootstrap servers given?", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof GroupIdNotFoundException) {
                throw new InvalidInputException("consumer group does not exist (" + what + ")"
                        + "; is the replayer service running with this replayer.group.id?");
            }
            if (cause instanceof UnknownTopicOrPartitionException) {
                throw new InvalidInputException("topic not found (" + what + "): check the topic prefix");
            }
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new RetriableException("Kafka did not answer within " + timeout.toSeconds() + " s (" + what
                        + "): is the broker reachable at the bootstrap servers given?", cause);
            }
            throw new RetriableException("Kafka refused to " + what + ": " + cause, cause);
        }
    }
}
