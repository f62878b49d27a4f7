package io.blockrep.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.testkit.kafka.KafkaBrokerExtension.Flavour;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.io.TempDir;

/** The flavour choice and the Docker check of {@link KafkaBrokerExtension}, without starting a broker. */
class KafkaBrokerExtensionTest {

    @EmbeddedKafkaOnly("stops and starts the broker")
    static class Restarts {
        class Nested {
        }
    }

    static class Plain {
    }

    @Test
    void theFlavourIsEmbeddedUnlessTestcontainersIsNamed() {
        assertThat(KafkaBrokerExtension.flavourFor(Plain.class, null)).isEqualTo(Flavour.EMBEDDED);
        assertThat(KafkaBrokerExtension.flavourFor(Plain.class, "")).isEqualTo(Flavour.EMBEDDED);
        assertThat(KafkaBrokerExtension.flavourFor(Plain.class, "embedded")).isEqualTo(Flavour.EMBEDDED);
        assertThat(KafkaBrokerExtension.flavourFor(Plain.class, "testcontainers")).isEqualTo(Flavour.TESTCONTAINERS);
        assertThatThrownBy(() -> KafkaBrokerExtension.flavourFor(Plain.class, "docker"))
                .isInstanceOf(ParameterResolutionException.class)
                .hasMessage("blockrep.test.kafka=docker is unknown; use embedded or testcontainers");
    }

    @Test
    void aClassThatRestartsTheBrokerKeepsTheEmbeddedOneUnderTestcontainers() {
        assertThat(KafkaBrokerExtension.flavourFor(Restarts.class, "testcontainers")).isEqualTo(Flavour.EMBEDDED);
        assertThat(KafkaBrokerExtension.flavourFor(Restarts.Nested.class, "testcontainers")).isEqualTo(Flavour.EMBEDDED);
        assertThat(KafkaBrokerExtension.embeddedOnly(Restarts.Nested.class)).map(EmbeddedKafkaOnly::value)
                .contains("stops and starts the broker");
    }

    @Test
    void withoutADockerEngineTheContainerFlavourFailsAtOnceSayingSo() {
        AtomicBoolean asked = new AtomicBoolean();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> KafkaBrokerExtension.create(Plain.class, "testcontainers", () -> {
            asked.set(true);
            return Optional.empty();
        })).isInstanceOf(ParameterResolutionException.class)
                .hasMessageStartingWith("no Docker engine: -Pdocker (blockrep.test.kafka=testcontainers) needs one (DOCKER_HOST");
        assertThat(asked).isTrue();
        assertThat(System.nanoTime() - t0).as("no discovery timeouts").isLessThan(5_000_000_000L);
    }

    @Test
    void dockerHostIsTakenAsGivenButAUnixSocketMustExist() {
        Predicate<Path> none = p -> false;
        assertThat(DockerEngine.locate(Map.of("DOCKER_HOST", "tcp://127.0.0.1:2375"), "/home/u", none)).contains("tcp://127.0.0.1:2375");
        assertThat(DockerEngine.locate(Map.of("DOCKER_HOST", "unix:///tmp/d.sock"), "/home/u", none)).isEmpty();
        assertThat(DockerEngine.locate(Map.of("DOCKER_HOST", "unix:///tmp/d.sock"), "/home/u", Set.of(Path.of("/tmp/d.sock"))::contains))
                .contains("unix:///tmp/d.sock");
    }

    @Test
    void theUsualSocketsAreFound() {
        assertThat(DockerEngine.locate(Map.of(), "/home/u", p -> false)).isEmpty();
        assertThat(DockerEngine.locate(Map.of(), "/home/u", Set.of(Path.of("/var/run/docker.sock"))::contains))
                .contains("unix:///var/run/docker.sock");
        assertThat(DockerEngine.locate(Map.of("XDG_RUNTIME_DIR", "/run/user/1000"), "/home/u",
                Set.of(Path.of("/run/user/1000/docker.sock"))::contains)).contains("unix:///run/user/1000/docker.sock");
        assertThat(DockerEngine.locate(Map.of(), "/home/u", Set.of(Path.of("/home/u/.docker/run/docker.sock"))::contains))
                .contains("unix:///home/u/.docker/run/docker.sock");
    }

    @Test
    void testcontainersPropertiesMayNameTheHost(@TempDir Path home) throws IOException {
        Files.writeString(home.resolve(".testcontainers.properties"), "docker.host=tcp://127.0.0.1:2376\n");
        assertThat(DockerEngine.locate(Map.of(), home.toString(), Files::exists)).contains("tcp://127.0.0.1:2376");
        Files.writeString(home.resolve(".testcontainers.properties"), "ryuk.disabled=true\n");
        assertThat(DockerEngine.locate(Map.of(), home.toString(), Files::exists)).isEmpty();
    }
}
