package io.blockrep.schemas.topic;

import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates blockrep's topics when missing and checks existing ones. Every call is bounded by the
 * admin client's {@code default.api.timeout.ms}. Stateless and thread-safe.
 */
public final class TopicAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

    private TopicAdmin() {
    }

    /**
     * Creates the missing topics of {@code prefix} with {@code partitions} partitions and the policies of
     * {@link TopicLayout#topicConfigs()}, tolerating a concurrent creator, then verifies all three.
     *
     * @param replicationFactor replication factor of created topics; {@code -1} for the broker default
     * @return the partition count of the dirty topic as it exists now (may differ from {@code partitions}
     *         when it already existed)
     * @throws FatalException if the dirty topic exists but is not compacted (deleting its records would
     *         lose regions that still have to be copied)
     * @throws RetriableException if Kafka cannot be reached or does not answer in time
     */
    public static int ensureTopics(Admin admin, String prefix, int partitions, short replicationFactor) {
        TopicLayout layout = new TopicLayout(prefix);
        Map<String, Map<String, String>> wanted = layout.topicConfigs();
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (String name : List.of(layout.dirty(), layout.events(), layout.status(), layout.dlq())) {
                if (!existing.contains(name)) {
                    missing.add(new NewTopic(name, Optional.of(partitions),
                            replicationFactor < 0 ? Optional.empty() : Optional.of(replicationFactor)).configs(wanted.get(name)));
                }
            }
            for (NewTopic t : missing) {
                createTolerantly(admin, t);
            }
            verifyPolicies(admin, layout);
            return dirtyPartitions(admin, layout);
        } catch (ExecutionException e) {
            throw new RetriableException("cannot check blockrep topics '" + prefix + "*': " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted while checking blockrep topics", e);
        } catch (KafkaException e) {
            throw new RetriableException("cannot check blockrep topics '" + prefix + "*': " + e, e);
        }
    }

    private static void createTolerantly(Admin admin, NewTopic topic) throws ExecutionException, InterruptedException {
        try {
            admin.createTopics(List.of(topic)).all().get();
            LOG.info("created topic {} ({} partitions, {})", topic.name(), topic.numPartitions(), topic.configs());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            LOG.debug("topic {} was created concurrently", topic.name());
        }
    }

    private static void verifyPolicies(Admin admin, TopicLayout layout) throws ExecutionException, InterruptedException {
        List<ConfigResource> resources = List.of(
                new ConfigResource(ConfigResource.Type.TOPIC, layout.dirty()),
                new ConfigResource(ConfigResource.Type.TOPIC, layout.events()),
                new ConfigResource(ConfigResource.Type.TOPIC, layout.status()));
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        List<String> dirtyPolicy = policy(configs.get(resources.get(0)));
        if (!dirtyPolicy.equals(List.of(TopicConfig.CLEANUP_POLICY_COMPACT))) {
            throw new FatalException("topic " + layout.dirty() + " has cleanup.policy=" + String.join(",", dirtyPolicy)
                    + "; blockrep needs cleanup.policy=compact there, or dirty regions that were never copied are deleted."
                    + " Fix it with: kafka-configs --alter --entity-type topics --entity-name " + layout.dirty()
                    + " --add-config cleanup.policy=compact");
        }
        if (!policy(configs.get(resources.get(2))).contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
            LOG.warn("topic {} is not compacted; volume status will be lost with retention", layout.status());
        }
        if (!policy(configs.get(resources.get(1))).contains(TopicConfig.CLEANUP_POLICY_DELETE)) {
            LOG.warn("topic {} has no delete policy; events will accumulate", layout.events());
        }
    }

    private static List<String> policy(Config config) {
        ConfigEntry e = config == null ? null : config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
        if (e == null || e.value() == null) {
            return List.of(TopicConfig.CLEANUP_POLICY_DELETE);
        }
        return Arrays.stream(e.value().split(",")).map(String::trim).filter(s -> !s.isEmpty()).sorted().toList();
    }

    private static int dirtyPartitions(Admin admin, TopicLayout layout) throws ExecutionException, InterruptedException {
        try {
            TopicDescription d = admin.describeTopics(List.of(layout.dirty())).allTopicNames().get().get(layout.dirty());
            return d.partitions().size();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new RetriableException("topic " + layout.dirty() + " vanished while it was being checked", e.getCause());
            }
            throw e;
        }
    }
}
