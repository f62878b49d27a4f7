package io.blockrep.replayer.index;

import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which member of the replayer service's consumer group owns a volume, if any: the member that is
 * assigned the volume's partition of the dirty topic. The ops jobs ({@code blockrep replay},
 * {@code resolve}) leave a volume that a running service replays to that service and follow its
 * progress, instead of copying the same eras a second time from a cold process.
 */
public final class ReplayerGroup {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayerGroup.class);

    private ReplayerGroup() {
    }

    /**
     * The owning member as {@code replayer-id (host)} (a service's member has its {@code replayer.id} as client id,
     * see {@link DirtyTopicFollower}), or empty when no member owns the volume's
     * partition (no service runs, the group is rebalancing, or the topic does not exist yet).
     * Kafka not answering within {@code timeout} also gives empty: the caller then copies itself,
     * which is always correct, only slower.
     */
    public static Optional<String> ownerOf(Properties clientProperties, String groupId, String topic, String volume, Duration timeout) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "blockrep-group-lookup");
        try (Admin admin = Admin.create(p)) {
            TopicDescription t = admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            TopicPartition partition = new TopicPartition(topic, TopicLayout.partitionFor(volume, t.partitions().size()));
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(groupId)).describedGroups().get(groupId)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (MemberDescription m : group.members()) {
                if (m.assignment().topicPartitions().contains(partition)) {
                    return Optional.of(m.clientId() + " (" + m.host() + ")");
                }
            }
            return Optional.empty();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof GroupIdNotFoundException) && !(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                LOG.warn("cannot tell whether a replayer service owns {}: {}; copying here", volume, e.getCause().toString());
            }
            return Optional.empty();
        } catch (TimeoutException e) {
            LOG.warn("cannot tell whether a replayer service owns {}: Kafka did not answer within {} ms; copying here", volume,
                    timeout.toMillis());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
