package io.blockrep.testkit.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Predicate;

/**
 * Where a Docker engine would be found, looked up the way Testcontainers looks first and without
 * contacting it: {@code DOCKER_HOST} (a {@code unix://} socket must exist; a {@code tcp://} address
 * is taken as given), else a unix socket at {@code /var/run/docker.sock},
 * {@code $XDG_RUNTIME_DIR/docker.sock} (rootless), {@code ~/.docker/run/docker.sock} or
 * {@code ~/.docker/desktop/docker.sock}, else {@code docker.host} in {@code ~/.testcontainers.properties}.
 * The container flavour checks this before it asks Testcontainers for a container, so a machine
 * without an engine fails at the first test with {@link #MISSING} instead of after Testcontainers'
 * discovery timeouts. The parent pom's {@code docker} profile makes the same check at the start of
 * the build.
 *
 * <p>Stateless; the environment and the file system are passed in so the rules can be tested.
 */
final class DockerEngine {
    static final String MISSING = "no Docker engine: -Pdocker (" + KafkaBrokerExtension.FLAVOUR_PROPERTY
            + "=testcontainers) needs one (DOCKER_HOST, or a unix socket at /var/run/docker.sock,"
            + " $XDG_RUNTIME_DIR/docker.sock or ~/.docker/run/docker.sock); found none."
            + " Run without -Pdocker to use the embedded broker";

    private DockerEngine() {
    }

    /** The engine's address as found on this machine, or empty. */
    static Optional<String> locate() {
        return locate(System.getenv(), System.getProperty("user.home"), Files::exists);
    }

    static Optional<String> locate(Map<String, String> env, String userHome, Predicate<Path> exists) {
        String host = env.get("DOCKER_HOST");
        if (host != null && !host.isBlank()) {
            if (host.startsWith("unix://")) {
                return exists.test(Path.of(host.substring("unix://".length()))) ? Optional.of(host) : Optional.empty();
            }
            return Optional.of(host);
        }
        for (Path socket : sockets(env, userHome)) {
            if (exists.test(socket)) {
                return Optional.of("unix://" + socket);
            }
        }
        if (userHome != null && exists.test(Path.of(userHome, ".testcontainers.properties"))) {
            return dockerHostIn(Path.of(userHome, ".testcontainers.properties"));
        }
        return Optional.empty();
    }

    private static List<Path> sockets(Map<String, String> env, String userHome) {
        List<Path> sockets = new ArrayList<>();
        sockets.add(Path.of("/var/run/docker.sock"));
        String runtimeDir = env.get("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank()) {
            sockets.add(Path.of(runtimeDir, "docker.sock"));
        }
        if (userHome != null) {
            sockets.add(Path.of(userHome, ".docker", "run", "docker.sock"));
            sockets.add(Path.of(userHome, ".docker", "desktop", "docker.sock"));
        }
        return sockets;
    }

    private static Optional<String> dockerHostIn(Path properties) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(properties)) {
            p.load(in);
        } catch (IOException e) {
            return Optional.empty();
        }
        String host = p.getProperty("docker.host");
        return host == null || host.isBlank() ? Optional.empty() : Optional.of(host);
    }
}
