package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The NBD deadlines and TLS keys of the facility's configuration. */
class ProducerConfigNbdTest {
    private static Properties props(String... extra) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", "/tmp/a");
        p.setProperty("producer.volumes", "vol1");
        p.setProperty("producer.volume.vol1.size", "1G");
        for (int i = 0; i < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        return p;
    }

    @Test
    void deadlinesAreOnByDefaultAndTlsOff() {
        ProducerConfig.Nbd nbd = ProducerConfig.from(props(), Map.of()).nbd();
        assertThat(nbd.handshakeTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(nbd.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(nbd.replyTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(nbd.tls()).isNull();
    }

    @Test
    void tlsSettingsComeFromTheFileAndThePasswordFromTheEnvironment() {
        ProducerConfig.Nbd nbd = ProducerConfig.from(props("producer.nbd.tls.keystore", "/etc/nbd/server.p12",
                "producer.nbd.tls.truststore", "/etc/nbd/ca-cert.pem", "producer.nbd.tls.allowed.clients", "app-1, sha256:AB:CD",
                "producer.nbd.idle.timeout", "0s"),
                Map.of("BLOCKREP_PRODUCER_NBD_TLS_KEYSTORE_PASSWORD", "s3cret")).nbd();
        assertThat(nbd.idleTimeout()).isZero();
        assertThat(nbd.tls().keystore()).isEqualTo(Path.of("/etc/nbd/server.p12"));
        assertThat(nbd.tls().keystorePassword()).isEqualTo("s3cret");
        assertThat(nbd.tls().require()).isTrue();
        assertThat(nbd.tls().allowedClients()).isEqualTo(List.of("app-1", "sha256:AB:CD"));
        assertThat(nbd.tls().toString()).doesNotContain("s3cret");
    }

    @Test
    void inconsistentTlsAndZeroDeadlinesAreReportedTogether() {
        assertThatThrownBy(() -> ProducerConfig.from(props("producer.nbd.tls.allowed.clients", "app-1",
                "producer.nbd.handshake.timeout", "0s", "producer.nbd.reply.timeout", "0ms"), Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).contains(
                        "producer.nbd.handshake.timeout: must be positive",
                        "producer.nbd.reply.timeout: must be positive",
                        "producer.nbd.tls.keystore: required when producer.nbd.tls.truststore or producer.nbd.tls.allowed.clients is set",
                        "producer.nbd.tls.truststore: required when producer.nbd.tls.allowed.clients is set (client certificates must be verified)"));
    }
}
