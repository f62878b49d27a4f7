package io.blockrep.replayer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.HostPort;
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
        p.setProperty("replayer.nodes", "site-a,site-b");
        p.setProperty("replayer.node.site-a.link", "site-a.example:10810");
        p.setProperty("replayer.node.site-a.control", "site-a.example:10811");
        p.setProperty("replayer.node.site-b.link", "site-b.example:10810");
        p.setProperty("replayer.node.site-b.control", "site-b.example:10811");
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a, site-b");
        p.setProperty("replayer.kafka.security.protocol", "SSL");
        ReplayerConfig c = ReplayerConfig.from(p, Map.of());
        assertThat(c.rateBytesPerSecond()).isEqualTo(100L << 20);
        assertThat(c.maxExtentBytes()).isEqualTo(1L << 20);
        assertThat(c.clientProperties()).containsEntry("security.protocol", "SSL");
        assertThat(c.volume("vol").nodes()).containsExactly("site-a", "site-b");
        assertThat(c.volume("vol").other("site-b")).isEqualTo("site-a");
        assertThat(c.node("site-b").link()).isEqualTo(new HostPort("site-b.example", 10810));
        assertThat(c.node("site-a").control()).isEqualTo(new HostPort("site-a.example", 10811));
        assertThat(c.toString()).doesNotContain("0123456789abcdef");
    }

    @Test
    void copyingManyVolumesHasBoundedDefaultsAndOptionalPerVolumeLimits() {
        Properties p = minimal();
        p.remove("replayer.volume.vol.nodes");
        p.setProperty("replayer.volumes", "big,small");
        p.setProperty("replayer.volume.big.nodes", "site-a,site-b");
        p.setProperty("replayer.volume.small.nodes", "site-a,site-b");
        ReplayerConfig defaults = ReplayerConfig.from(p, Map.of());
        assertThat(defaults.copy()).isEqualTo(ReplayerConfig.Copying.DEFAULT);
        assertThat(defaults.copy().volumeRate("big")).isZero();

        p.setProperty("replayer.copy.concurrency", "2");
        p.setProperty("replayer.copy.slice", "16M");
        p.setProperty("replayer.volume.big.rate", "10M");
        ReplayerConfig c = ReplayerConfig.from(p, Map.of());
        assertThat(c.copy().concurrency()).isEqualTo(2);
        assertThat(c.copy().sliceBytes()).isEqualTo(16L << 20);
        assertThat(c.copy().volumeRate("big")).isEqualTo(10L << 20);
        assertThat(c.copy().volumeRate("small")).as("unset: only the shared replayer.rate").isZero();

        p.setProperty("replayer.copy.concurrency", "0");
        p.setProperty("replayer.volume.small.rate", "-1");
        assertThatThrownBy(() -> ReplayerConfig.from(p, Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).hasSize(2)
                        .anyMatch(x -> x.startsWith("replayer.copy.concurrency:") && x.contains("1..64"))
                        .anyMatch(x -> x.startsWith("replayer.volume.small.rate:")));
    }

    @Test
    void badConfigListsEveryProblem() {
        Properties p = new Properties();
        p.setProperty("replayer.id", "R 1");
        p.setProperty("replayer.rate", "fast");
        p.setProperty("replayer.nodes", "site-a,site-b");
        p.setProperty("replayer.node.site-a.link", "nowhere");
        p.setProperty("replayer.node.site-a.control", "127.0.0.1:10811");
        p.setProperty("replayer.volumes", "v1,v2,v3");
        p.setProperty("replayer.volume.v1.nodes", "site-a,site-c");
        p.setProperty("replayer.volume.v2.nodes", "site-a");
        p.setProperty("replayer.volume.v3.nodes", "site-x,site-y");
        p.setProperty("replayer.volume.v1.source", "/data/v1.img");
        assertThatThrownBy(() -> ReplayerConfig.from(p, Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "replayer.id: 'R 1' is not an id of a-z, 0-9, '-'",
                        "replayer.kafka.bootstrap.servers: required (Kafka bootstrap servers (the cluster the facilities publish to).)",
                        "replayer.link.secret: required (Shared link secret of the facilities. Prefer BLOCKREP_REPLAYER_LINK_SECRET.)",
                        e.problems().stream().filter(x -> x.startsWith("replayer.rate:")).findFirst().orElse("replayer.rate: ?"),
                        e.problems().stream().filter(x -> x.startsWith("replayer.node.site-a.link:")).findFirst().orElse("link: ?"),
                        e.problems().stream().filter(x -> x.startsWith("replayer.node.site-b.link: required")).findFirst().orElse("b link: ?"),
                        e.problems().stream().filter(x -> x.startsWith("replayer.node.site-b.control: required")).findFirst()
                                .orElse("b control: ?"),
                        "replayer.volume.v2.nodes: lists 1 node(s); a volume has exactly two",
                        "replayer.volume.v1.nodes: 'site-c' is not listed in replayer.nodes [site-a, site-b]",
                        "replayer.volume.v3.nodes: 'site-x' is not listed in replayer.nodes [site-a, site-b]",
                        "replayer.volume.v3.nodes: 'site-y' is not listed in replayer.nodes [site-a, site-b]",
                        "replayer.volume.v1.source: unknown key"));
    }

    private static Properties minimal() {
        Properties p = new Properties();
        p.setProperty("replayer.id", "r1");
        p.setProperty("replayer.kafka.bootstrap.servers", "127.0.0.1:9092");
        p.setProperty("replayer.link.secret", "0123456789abcdef-secret");
        p.setProperty("replayer.nodes", "site-a,site-b");
        for (String n : new String[] {"site-a", "site-b"}) {
            p.setProperty("replayer.node." + n + ".link", n + ".example:10810");
            p.setProperty("replayer.node." + n + ".control", n + ".example:10811");
        }
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a, site-b");
        return p;
    }

    @Test
    void mirrorKeysDefaultToOneClusterAndNameThePeerTopics() {
        ReplayerConfig none = ReplayerConfig.from(minimal(), Map.of());
        assertThat(none.mirror()).isEqualTo(ReplayerConfig.Mirror.NONE);
        assertThat(io.blockrep.replayer.index.SourceTopics.of(none).dirty()).containsExactly("blockrep.dirty");
        Properties p = minimal();
        p.setProperty("replayer.mirror.policy", "default");
        p.setProperty("replayer.mirror.peer.aliases", "site-a");
        p.setProperty("replayer.mirror.catchup.timeout", "90s");
        ReplayerConfig c = ReplayerConfig.from(p, Map.of());
        assertThat(c.mirror().catchupTimeout()).isEqualTo(java.time.Duration.ofSeconds(90));
        assertThat(io.blockrep.replayer.index.SourceTopics.of(c).dirty()).containsExactly("blockrep.dirty", "site-a.blockrep.dirty");
    }

    @Test
    void mirrorKeysAreCheckedTogether() {
        Properties p = minimal();
        p.setProperty("replayer.mirror.policy", "default");
        p.setProperty("replayer.mirror.catchup.timeout", "0s");
        assertThat(ReplayerConfig.problems(p, Map.of())).anySatisfy(x -> assertThat(x).startsWith(
                "replayer.mirror.peer.aliases: required with replayer.mirror.policy=default"))
                .contains("replayer.mirror.catchup.timeout: PT0S must be positive");
        Properties q = minimal();
        q.setProperty("replayer.mirror.peer.aliases", "site-a");
        assertThat(ReplayerConfig.problems(q, Map.of())).anySatisfy(x -> assertThat(x).startsWith(
                "replayer.mirror.peer.aliases: [site-a] given, but replayer.mirror.policy is none"));
        Properties r = minimal();
        r.setProperty("replayer.mirror.policy", "mirrored");
        assertThat(ReplayerConfig.problems(r, Map.of())).anySatisfy(x -> assertThat(x).startsWith("replayer.mirror.policy:"));
    }

    @Test
    void readmeConfigurationReferenceMatchesTheTable() throws IOException {
        assertThat(Files.readString(Path.of("..", "README.md")))
                .as("README.md must embed ReplayerConfig.DEF.markdownTable() verbatim; regenerate it")
                .contains(ReplayerConfig.DEF.markdownTable());
    }
}
