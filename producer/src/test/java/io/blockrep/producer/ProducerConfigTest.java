package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ProducerConfigTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void minimalConfigGetsDefaults() {
        ProducerConfig c = ProducerConfig.from(props("producer.node.id", "site-a", "producer.state.dir", "/tmp/a",
                "producer.volumes", "vol1", "producer.volume.vol1.size", "1G"), Map.of());
        assertThat(c.nbdListen().toString()).isEqualTo("127.0.0.1:10809");
        assertThat(c.volumes()).singleElement().satisfies(v -> {
            assertThat(v.size()).isEqualTo(1L << 30);
            assertThat(v.regionSize()).isEqualTo(65536);
            assertThat(v.role()).isEqualTo(Role.PRIMARY);
            assertThat(v.path()).isNull();
        });
    }

    @Test
    void linkTlsNeedsAKeystoreAndSomethingToCheckThePeerWith() {
        assertThatThrownBy(() -> ProducerConfig.from(props("producer.node.id", "site-a", "producer.state.dir", "/tmp/a",
                "producer.volumes", "vol1", "producer.volume.vol1.size", "1G", "producer.link.tls.enabled", "true",
                "producer.link.tls.peer.fingerprints", "not-a-fingerprint"), Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("producer.link.tls.keystore: required"))
                        .anyMatch(p -> p.startsWith("producer.link.tls.keystore.password: required"))
                        .anyMatch(p -> p.startsWith("producer.link.tls.peer.fingerprints:")));
        ProducerConfig c = ProducerConfig.from(props("producer.node.id", "site-a", "producer.state.dir", "/tmp/a",
                "producer.volumes", "vol1", "producer.volume.vol1.size", "1G"), Map.of());
        assertThat(c.link().tls()).as("TLS is off unless enabled").isNull();
        assertThat(c.link().maxUnauthenticated()).isEqualTo(16);
    }

    @Test
    void badFileListsEveryProblemAtOnce() {
        assertThatThrownBy(() -> ProducerConfig.from(props("producer.node.id", "Site A", "producer.nbd.listen", "nowhere",
                "producer.volumes", "v1,v2", "producer.volume.v1.size", "1000", "producer.volume.v1.region.size", "3K",
                "producer.volume.v2.role", "TERTIARY", "producer.volum.v1.path", "/x"), Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(78);
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("producer.node.id:"))
                            .anyMatch(p -> p.startsWith("producer.state.dir: required"))
                            .anyMatch(p -> p.startsWith("producer.nbd.listen:"))
                            .anyMatch(p -> p.startsWith("producer.volume.v1.size:"))
                            .anyMatch(p -> p.startsWith("producer.volume.v1.region.size:"))
                            .anyMatch(p -> p.startsWith("producer.volume.v2.size: required"))
                            .anyMatch(p -> p.startsWith("producer.volume.v2.role:"))
                            .anyMatch(p -> p.startsWith("producer.volum.v1.path: unknown key"));
                    assertThat(e.problems()).hasSize(8);
                });
    }

    @Test
    void readmeConfigurationReferenceMatchesTheTable() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertThat(readme)
                .as("README.md must embed ProducerConfig.DEF.markdownTable() verbatim; regenerate it")
                .contains(ProducerConfig.DEF.markdownTable());
    }
}
