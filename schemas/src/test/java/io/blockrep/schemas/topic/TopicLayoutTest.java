package io.blockrep.schemas.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TopicLayoutTest {

    @Test
    void namesTopicsFromThePrefix() {
        TopicLayout d = TopicLayout.defaults();
        assertThat(d.dirty()).isEqualTo("blockrep.dirty");
        assertThat(d.events()).isEqualTo("blockrep.events");
        assertThat(d.status()).isEqualTo("blockrep.status");
        assertThat(d.dlq()).isEqualTo("blockrep.dlq");
        TopicLayout t = new TopicLayout("test-1.");
        assertThat(t.dirty()).isEqualTo("test-1.dirty");
        assertThat(new TopicLayout("").events()).isEqualTo("events");
    }

    @Test
    void refusesPrefixesKafkaCannotName() {
        assertThatThrownBy(() -> new TopicLayout("a/b")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a/b");
        assertThatThrownBy(() -> new TopicLayout(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void policiesMatchTheDesign() {
        TopicLayout d = TopicLayout.defaults();
        assertThat(d.topicConfigs().get("blockrep.dirty")).containsEntry("cleanup.policy", "compact");
        assertThat(d.topicConfigs().get("blockrep.status")).containsEntry("cleanup.policy", "compact");
        assertThat(d.topicConfigs().get("blockrep.events"))
                .containsEntry("cleanup.policy", "delete").containsEntry("retention.ms", "604800000");
        assertThat(d.topicConfigs().get("blockrep.dlq"))
                .containsEntry("cleanup.policy", "delete").containsEntry("retention.ms", "2592000000");
    }

    /**
     * Pinned values: the partition of a volume must never change for a given partition count, or a
     * rebuilt dirty set would miss records. Computed by an independent murmur2 implementation, not by
     * this code; changing them means changing the on-Kafka layout.
     */
    @Test
    void partitionForIsStable() {
        assertThat(TopicLayout.partitionFor("vol-1", 12)).isEqualTo(PINNED_VOL1_12);
        assertThat(TopicLayout.partitionFor("db-primary", 12)).isEqualTo(PINNED_DB_12);
        assertThat(TopicLayout.partitionFor("a", 3)).isEqualTo(PINNED_A_3);
        assertThat(TopicLayout.partitionFor("vol-1", 1)).isZero();
    }

    @Test
    void partitionForSpreadsAndStaysInRange() {
        int[] seen = new int[8];
        for (int i = 0; i < 800; i++) {
            int p = TopicLayout.partitionFor("vol-" + i, 8);
            assertThat(p).isBetween(0, 7);
            seen[p]++;
        }
        assertThat(java.util.Arrays.stream(seen).min().orElseThrow()).isGreaterThan(50);
        assertThatThrownBy(() -> TopicLayout.partitionFor("v", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static final int PINNED_VOL1_12 = 11;
    private static final int PINNED_DB_12 = 9;
    private static final int PINNED_A_3 = 1;
}
