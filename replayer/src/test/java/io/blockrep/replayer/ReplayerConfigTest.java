package io.blockrep.replayer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ReplayerConfigTest {
    @Test
    void minimalConfigGetsDefaultsAndKeepsTheSecretOutOfToString() {
        Properties p = new Properties();
        p.setProperty("replayer.id", "r1");
        p.setProperty("replayer.kafka.bootstrap.servers", "127.0.0.1:9092");
        p.setProperty("replayer.link.secret", "0123456789abcdef-secret");
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.node", "site-a");
        p.setProperty("replayer.volume.vol.source", "/data/vol.img");
        p.setProperty("replayer.volume.vol.target", "site-b:10810");
        p.setProperty("replayer.volume.vol.control", "127.0.0.1:10811");
        p.setProperty("replayer.kafka.security.protocol", "SSL");
        ReplayerConfig c = ReplayerConfig.from(p, Map.of());
        assertThat(c.rateBytesPerSecond()).isEqualTo(100L << 20);
        assertThat(c.maxExtentBytes()).isEqualTo(1L << 20);
        assertThat(c.clientProperties()).containsEntry("security.protocol", "SSL");
        assertThat(c.volume("vol").target().port()).isEqualTo(10810);
        assertThat(c.toString()).doesNotContain("0123456789abcdef");
    }

    @Test
    void badConfigListsEveryProblem() {
        Properties p = new Properties();
        p.setProperty("replayer.id", "R 1");
        p.setProperty("replayer.rate", "fast");
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.target", "nowhere");
        assertThatThrownBy(() -> ReplayerConfig.from(p, Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems())
                        .anyMatch(x -> x.startsWith("replayer.id:"))
                        .anyMatch(x -> x.startsWith("replayer.kafka.bootstrap.servers: required"))
                        .anyMatch(x -> x.startsWith("replayer.link.secret: required"))
                        .anyMatch(x -> x.startsWith("replayer.rate:"))
                        .anyMatch(x -> x.startsWith("replayer.volume.vol.node: required"))
                        .anyMatch(x -> x.startsWith("replayer.volume.vol.source: required"))
                        .anyMatch(x -> x.startsWith("replayer.volume.vol.target:"))
                        .anyMatch(x -> x.startsWith("replayer.volume.vol.control: required")));
    }

    @Test
    void readmeConfigurationReferenceMatchesTheTable() throws IOException {
        assertThat(Files.readString(Path.of("..", "README.md")))
                .as("README.md must embed ReplayerConfig.DEF.markdownTable() verbatim; regenerate it")
                .contains(ReplayerConfig.DEF.markdownTable());
    }
}
