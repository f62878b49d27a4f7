package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facility's start-up validation ({@link ProducerConfig#load}) and config check share {@link ProducerConfig#problems}. */
class ProducerConfigProblemsTest {
    @TempDir
    Path dir;

    private Path stateWithVolume() {
        Path state = dir.resolve("state");
        new VolumeStore(state).create("demo", null, 1L << 20, 64 * 1024, Role.PRIMARY);
        return state;
    }

    private Path file(String text) throws IOException {
        return Files.writeString(dir.resolve("site-a.properties"), text);
    }

    @Test
    void startUpListsConfigProblemsAndMetadataMismatchesTogether() throws IOException {
        Path state = stateWithVolume();
        Path file = file("""
                producer.node.id=site-a
                producer.state.dir=%s
                producer.volumes=demo
                producer.volume.demo.size=2M
                producer.volume.demo.region.size=128K
                producer.nbd.max.connection=10
                producer.nbd.listen=nowhere
                producer.volume.other.size=1G
                """.formatted(state));
        assertThatThrownBy(() -> ProducerConfig.load(file, Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(78);
                    assertThat(e.problems()).hasSize(5)
                            .anyMatch(p -> p.startsWith("producer.nbd.max.connection: unknown key (did you mean 'producer.nbd.max.connections'?)"))
                            .anyMatch(p -> p.startsWith("producer.nbd.listen:"))
                            .anyMatch(p -> p.startsWith("producer.volume.other.size: unknown key: 'other' is not listed in producer.volumes"))
                            .contains("producer.volume.demo.size: configured 2M but the volume is 1M (volumes are not resized)",
                                    "producer.volume.demo.region.size: configured 128K but the volume uses 64K");
                });
    }

    @Test
    void aMatchingVolumeAndAMissingStateDirAreClean() {
        Path state = stateWithVolume();
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", state.toString());
        p.setProperty("producer.volumes", "demo,fresh");
        p.setProperty("producer.volume.demo.size", "1M");
        p.setProperty("producer.volume.fresh.size", "1G");
        assertThat(ProducerConfig.problems(p, Map.of())).as("fresh is created at start").isEmpty();
        p.setProperty("producer.state.dir", dir.resolve("not-yet").toString());
        p.setProperty("producer.volume.demo.size", "3M");
        assertThat(ProducerConfig.problems(p, Map.of())).isEmpty();
    }

    @Test
    void unreadableMetadataIsLeftToTheFacilitysStartUp() throws IOException {
        Path state = stateWithVolume();
        Files.writeString(new VolumeStore(state).metadataFile("demo"), "{ damaged");
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", state.toString());
        p.setProperty("producer.volumes", "demo");
        p.setProperty("producer.volume.demo.size", "3M");
        assertThat(ProducerConfig.problems(p, Map.of())).isEmpty();
    }

    @Test
    void environmentOverridesApply() {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", stateWithVolume().toString());
        p.setProperty("producer.volumes", "demo");
        p.setProperty("producer.volume.demo.size", "1M");
        assertThat(ProducerConfig.problems(p, Map.of("BLOCKREP_PRODUCER_VOLUME_DEMO_SIZE", "4M")))
                .containsExactly("producer.volume.demo.size: configured 4M but the volume is 1M (volumes are not resized)");
    }
}
