package io.blockrep.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stop and start keep the address and the data. A container cannot do that, so this class keeps the
 * embedded broker under {@code -Pdocker} too ({@link EmbeddedKafkaOnly}).
 */
@ExtendWith(KafkaBrokerExtension.class)
@EmbeddedKafkaOnly("stops and starts the broker")
class KafkaBrokerRestartIT {

    @Test
    void restartsOnTheSameAddressWithItsData(KafkaBroker kafka) throws Exception {
        assertThat(kafka.supportsRestart()).isTrue();
        kafka.createTopic("ext.restart", 1, Map.of("cleanup.policy", "compact"));
        KafkaBrokerExtensionIT.produce(kafka, "ext.restart", "before");
        String address = kafka.bootstrapServers();

        kafka.stop();
        assertThat(kafka.isRunning()).isFalse();
        kafka.start();

        assertThat(kafka.bootstrapServers()).isEqualTo(address);
        KafkaBrokerExtensionIT.produce(kafka, "ext.restart", "after");
        assertThat(KafkaBrokerExtensionIT.consume(kafka, "ext.restart", 2)).containsExactly("before", "after");
        // The shared admin client reconnects by itself.
        assertThat(kafka.admin().listTopics().names().get(30, TimeUnit.SECONDS)).contains("ext.restart");
    }
}
