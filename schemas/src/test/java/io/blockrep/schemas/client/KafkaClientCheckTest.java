package io.blockrep.schemas.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.ConfigType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientCheckTest {
    private static final ConfigDef DEF = ConfigDef.builder()
            .define("svc.kafka.bootstrap.servers", ConfigType.STRING, null, "servers")
            .passThrough("svc.kafka.", KafkaClientCheck.CLIENTS)
            .build();

    /** The documented mapping is one-to-one for every setting the clients know: each can be set from the environment. */
    @Test
    void everyKafkaClientSettingHasAnEnvironmentVariable() {
        ConfigDef unchecked = ConfigDef.builder().passThrough("svc.kafka.").build();
        assertThat(KafkaClientCheck.CLIENTS.names()).hasSizeGreaterThan(100).allMatch(n -> n.matches("[a-z0-9.]+"));
        for (String name : KafkaClientCheck.CLIENTS.names()) {
            String var = KafkaClientCheck.envName("svc.kafka.", name);
            Config c = unchecked.parse(Map.of(), Map.of(var, "x"));
            assertThat(c.passThrough("svc.kafka.")).as(var).containsOnly(Map.entry(name, "x"));
        }
        assertThat(KafkaClientCheck.envName("svc.kafka.", "sasl.jaas.config")).isEqualTo("BLOCKREP_SVC_KAFKA_SASL_JAAS_CONFIG");
        assertThat(DEF.parse(Map.of(), Map.of("BLOCKREP_SVC_KAFKA_REQUEST_TIMEOUT_MS", "1000")).passThrough("svc.kafka."))
                .containsEntry("request.timeout.ms", "1000");
    }

    @Test
    void unknownNamesGetTheNearestKafkaSetting() {
        Map<String, String> problems = KafkaClientCheck.CLIENTS.problems("svc.kafka.",
                Map.of("ssl.truststore.locaton", "/x", "frobnicate", "1", "metrics.context.rack", "r1"));
        assertThat(problems).containsOnlyKeys("ssl.truststore.locaton", "frobnicate");
        assertThat(problems.get("ssl.truststore.locaton")).isEqualTo(
                "unknown Kafka client setting (did you mean 'svc.kafka.ssl.truststore.location'?)");
        assertThat(problems.get("frobnicate")).isEqualTo("unknown Kafka client setting");
    }

    @Test
    void secretNamesAreThePasswordSettings() {
        assertThat(KafkaClientCheck.CLIENTS.secretNames(List.of("sasl.jaas.config", "ssl.keystore.password", "ssl.key.password",
                "ssl.truststore.location", "security.protocol"))).containsExactly("sasl.jaas.config", "ssl.keystore.password",
                "ssl.key.password");
    }
}
