package io.blockrep.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * Two embedded clusters in one JVM are independent: own cluster id, own topics, and one keeps serving while the
 * other is down (a site cut), then comes back on the same address.
 */
class TwoSiteKafkaIT {

    @Test
    void twoClustersInOneJvmAreIndependent() throws Exception {
        try (TwoSiteKafka kafka = TwoSiteKafka.start()) {
            assertThat(kafka.sites()).containsExactly("site-a", "site-b");
            assertThat(kafka.bootstrapServers("site-a")).isNotEqualTo(kafka.bootstrapServers("site-b"));
            String idA = kafka.admin("site-a").describeCluster().clusterId().get();
            String idB = kafka.admin("site-b").describeCluster().clusterId().get();
            assertThat(idA).isNotEqualTo(idB);

            kafka.admin("site-a").createTopics(List.of(new NewTopic("only-on-a", 1, (short) 1).configs(Map.of()))).all().get();
            assertThat(kafka.admin("site-b").listTopics().names().get()).doesNotContain("only-on-a");

            String addressA = kafka.bootstrapServers("site-a");
            kafka.cluster("site-a").stop();
            kafka.admin("site-b").createTopics(List.of(new NewTopic("while-a-is-down", 1, (short) 1))).all().get();
            assertThat(kafka.admin("site-b").listTopics().names().get()).contains("while-a-is-down");
            kafka.cluster("site-a").start();
            assertThat(kafka.bootstrapServers("site-a")).isEqualTo(addressA);
            assertThat(kafka.admin("site-a").listTopics().names().get()).contains("only-on-a").doesNotContain("while-a-is-down");
        }
    }
}
