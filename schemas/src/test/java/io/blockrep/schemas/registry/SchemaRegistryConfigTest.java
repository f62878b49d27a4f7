package io.blockrep.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigDef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchemaRegistryConfigTest {
    private static final String P = "producer.schema.registry.";
    private static final ConfigDef DEF = SchemaRegistryConfig.define(ConfigDef.builder(), P).build();

    private static Config parse(Map<String, String> props) {
        return DEF.parse(props, Map.of(), c -> SchemaRegistryConfig.problems(c, P));
    }

    @Test
    void noUrlMeansNoRegistry() {
        Config c = parse(Map.of());
        assertThat(SchemaRegistryConfig.settings(c, P)).isEmpty();
        assertThat(SchemaRegistryConfig.autoRegister(c, P)).isTrue();
    }

    @Test
    void everySettingReachesTheClientSettings() {
        Config c = parse(Map.of(P + "url", "https://registry:8443/apis/ccompat/v7", P + "auto.register", "false",
                P + "basic.auth.user", "blockrep", P + "basic.auth.password", "pw", P + "truststore", "/etc/blockrep/trust.p12",
                P + "truststore.password", "t", P + "request.timeout", "5s"));
        SchemaRegistrySettings s = SchemaRegistryConfig.settings(c, P).orElseThrow();
        assertThat(s.url().toString()).isEqualTo("https://registry:8443/apis/ccompat/v7");
        assertThat(s.username()).isEqualTo("blockrep");
        assertThat(s.password()).isEqualTo("pw");
        assertThat(s.trustStore()).isEqualTo(new SchemaRegistrySettings.Store(Path.of("/etc/blockrep/trust.p12"), "t", "PKCS12"));
        assertThat(s.keyStore()).isNull();
        assertThat(s.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(SchemaRegistryConfig.autoRegister(c, P)).isFalse();
        assertThat(s.toString()).doesNotContain("pw");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> parse(Map.of(P + "url", "registry:8081", P + "basic.auth.password", "pw", P + "keystore", "/k.p12",
                P + "keystore.type", "PEM")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(P + "url: 'registry:8081' is not an http:// or https:// URL")
                .hasMessageContaining(P + "basic.auth.password: needs " + P + "basic.auth.user")
                .hasMessageContaining(P + "keystore.password: required with")
                .hasMessageContaining(P + "keystore.type");
    }
}
