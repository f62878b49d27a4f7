package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code producer.control.tls.*}: what is required with TLS on, and that TLS does not stand in for a token off loopback. */
class ControlTlsConfigTest {
    @TempDir
    Path dir;

    private Properties props() {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", dir.toString());
        p.setProperty("producer.volumes", "demo");
        p.setProperty("producer.volume.demo.size", "4M");
        return p;
    }

    @Test
    void tlsOffByDefault() {
        assertThat(ProducerConfig.from(props(), Map.of()).controlAuth().tls()).isNull();
    }

    @Test
    void tlsOnNeedsAKeyStoreAndATrustStoreThatLoad() {
        Properties p = props();
        p.setProperty("producer.control.tls.enabled", "true");
        assertThatThrownBy(() -> ProducerConfig.from(p, Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.control.tls.keystore.path: required")
                .hasMessageContaining("producer.control.tls.truststore.path: required");

        p.setProperty("producer.control.tls.keystore.path", dir.resolve("missing.p12").toString());
        p.setProperty("producer.control.tls.truststore.path", dir.resolve("missing-trust.p12").toString());
        p.setProperty("producer.control.tls.truststore.type", "pem");
        assertThatThrownBy(() -> ProducerConfig.from(p, Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.control.tls.keystore.path: cannot read the PKCS12 key store")
                .hasMessageContaining("producer.control.tls.truststore.path: cannot read the PEM trust store");

        p.setProperty("producer.control.tls.keystore.type", "DER");
        assertThatThrownBy(() -> ProducerConfig.from(p, Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.control.tls.keystore.type");
    }

    @Test
    void offLoopbackTlsStillNeedsAToken() {
        Properties p = props();
        p.setProperty("producer.control.listen", "0.0.0.0:0");
        p.setProperty("producer.control.tls.enabled", "true");
        assertThatThrownBy(() -> ProducerConfig.from(p, Map.of())).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.control.token.file")
                .hasMessageContaining("the token decides the role");
    }

    @Test
    void tlsCanBeTurnedOnFromTheEnvironment() {
        assertThatThrownBy(() -> ProducerConfig.from(props(), Map.of("BLOCKREP_PRODUCER_CONTROL_TLS_ENABLED", "true")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("producer.control.tls.keystore.path: required");
    }
}
