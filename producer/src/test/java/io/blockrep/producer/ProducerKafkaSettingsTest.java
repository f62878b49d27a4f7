package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code producer.kafka.*} pass-through: checked against the Kafka clients' tables, and settable from the environment. */
class ProducerKafkaSettingsTest {
    private static Properties base() {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", "/tmp/a");
        p.setProperty("producer.volumes", "vol1");
        p.setProperty("producer.volume.vol1.size", "1G");
        return p;
    }

    @Test
    void kafkaCredentialsComeFromTheEnvironment() {
        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"site-a\" password=\"s3cret\";";
        ProducerConfig c = ProducerConfig.from(base(), Map.of(
                "BLOCKREP_PRODUCER_KAFKA_BOOTSTRAP_SERVERS", "kafka1:9093",
                "BLOCKREP_PRODUCER_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "BLOCKREP_PRODUCER_KAFKA_SASL_MECHANISM", "PLAIN",
                "BLOCKREP_PRODUCER_KAFKA_SASL_JAAS_CONFIG", jaas));
        assertThat(c.kafka().bootstrapServers()).isEqualTo("kafka1:9093");
        assertThat(c.kafka().clientProperties()).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "PLAIN").containsEntry("sasl.jaas.config", jaas)
                .doesNotContainKey("bootstrap.servers");
    }

    @Test
    void theEnvironmentOverridesTheFile() {
        Properties p = base();
        p.setProperty("producer.kafka.bootstrap.servers", "kafka1:9092");
        p.setProperty("producer.kafka.security.protocol", "PLAINTEXT");
        ProducerConfig c = ProducerConfig.from(p, Map.of("BLOCKREP_PRODUCER_KAFKA_SECURITY_PROTOCOL", "SSL"));
        assertThat(c.kafka().clientProperties()).containsEntry("security.protocol", "SSL");
    }

    @Test
    void aMisspelledVariableIsAProblemThatNamesIt() {
        assertThatThrownBy(() -> ProducerConfig.from(base(), Map.of("BLOCKREP_PRODUCER_KAFKA_SASL_JASS_CONFIG", "x")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.kafka.sasl.jass.config (from BLOCKREP_PRODUCER_KAFKA_SASL_JASS_CONFIG): unknown Kafka client"
                        + " setting (did you mean 'producer.kafka.sasl.jaas.config'?)");
    }

    @Test
    void settingsBlockrepFixesCannotBeChangedButTheirOwnValuePasses() {
        Properties p = base();
        p.setProperty("producer.kafka.acks", "1");
        p.setProperty("producer.kafka.enable.idempotence", "false");
        p.setProperty("producer.kafka.group.id", "mine");
        assertThatThrownBy(() -> ProducerConfig.from(p, Map.of())).isInstanceOf(InvalidInputException.class)
                .satisfies(e -> assertThat(((InvalidInputException) e).problems()).hasSize(3))
                .hasMessageContaining("producer.kafka.acks: cannot be changed").hasMessageContaining("it is always all")
                .hasMessageContaining("producer.kafka.enable.idempotence: cannot be changed")
                .hasMessageContaining("producer.kafka.group.id: cannot be changed");
        Properties ok = base();
        ok.setProperty("producer.kafka.acks", "all");
        ok.setProperty("producer.kafka.linger.ms", "5");
        ok.setProperty("producer.kafka.metrics.context.site", "a");
        assertThat(ProducerConfig.from(ok, Map.of()).kafka().clientProperties()).containsEntry("linger.ms", "5");
    }

    @Test
    void aBadPasswordValueDoesNotEchoIt() {
        Properties p = base();
        p.setProperty("producer.kafka.ssl.keystore.password", "hunter2");
        p.setProperty("producer.kafka.ssl.keystore.type", "PKCS12");
        assertThat(ProducerConfig.from(p, Map.of()).kafka().clientProperties()).containsEntry("ssl.keystore.password", "hunter2");
        Properties bad = base();
        bad.setProperty("producer.kafka.retries", "many");
        assertThatThrownBy(() -> ProducerConfig.from(bad, Map.of())).hasMessageContaining("producer.kafka.retries: Invalid value many");
    }
}
