package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproduction 6 of issue #13: under the default umask 022, the link secret, the replayer
 * properties holding it and a volume's data.img were created 0644, readable by every user of the
 * host. Run as a real process under {@code umask 022}: every directory blockrep makes is 0700 and
 * every file it writes 0600, and a configuration file that holds the link secret but is readable by
 * others is named at WARN when the facility starts.
 */
class FilePermissionsSecurityIT {
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final Path JAR = Path.of("target", "blockrep.jar").toAbsolutePath();

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();

    /** {@code blockrep ARGS} under umask 022, the way a shell with the Debian default runs it. */
    private static List<String> underUmask022(String... args) {
        StringBuilder cmd = new StringBuilder("umask 022; exec '" + JAVA + "' -Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.blockrep.schemas -jar '"
                + JAR + "'");
        for (String a : args) {
            cmd.append(" '").append(a).append("'");
        }
        return List.of("sh", "-c", cmd.toString());
    }

    @Test
    void volumeCreateMakesOwnerOnlyDirectoriesAndFiles() throws IOException {
        Path state = dir.resolve("state");
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60),
                underUmask022("volume", "create", "demo", "--state-dir", state.toString(), "--size", "16M"));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        Path umaskProbe = Files.createFile(dir.resolve("probe"));
        assertThat(modes(state)).as("created under umask 022 (a plain file here is %s)", mode(umaskProbe))
                .containsEntry("volumes/demo/data.img", "rw-------")
                .containsEntry("volumes/demo/volume.json", "rw-------")
                .containsEntry("volumes/demo", "rwx------")
                .containsEntry("volumes", "rwx------")
                .containsEntry(".", "rwx------");
    }

    @Test
    void facilityStateIsOwnerOnlyAndAnExposedSecretIsNamedAtStart() throws IOException {
        int control = FreePorts.find();
        Path config = BlockrepProcess.facilityConfig(dir, "site-a", "PRIMARY", 16 << 20, FreePorts.find(), control,
                "0123456789abcdef0123", Map.of("producer.link.listen", "127.0.0.1:" + FreePorts.find(),
                        "producer.link.peer", "127.0.0.1:" + FreePorts.find()));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        ExternalCommand.Running p = ExternalCommand.start(underUmask022("producer", "--config", config.toString()));
        processes.add(p);
        ControlApi api = new ControlApi(control);
        BlockrepProcess.await(Awaitility.await().atMost(Duration.ofSeconds(60)), () -> !p.isAlive() || api.volume() != null, p);
        assertThat(p.isAlive()).as(p.stderr()).isTrue();

        Map<String, String> modes = modes(dir.resolve("site-a"));
        assertThat(modes).containsKeys("volumes/vol/data.img", "volumes/vol/volume.json", "volumes/vol/eras.json", "facility.lock");
        assertThat(modes.keySet()).anyMatch(k -> k.matches("volumes/vol/dirty-\\d+\\.bitmap"));
        modes.forEach((path, mode) -> assertThat(mode).as(path)
                .isEqualTo(Files.isDirectory(dir.resolve("site-a").resolve(path)) ? "rwx------" : "rw-------"));
        assertThat(p.stderr()).contains("WARN").contains(config.toString()).contains("producer.link.secret")
                .contains("rw-r--r--");
    }

    /** Mode of every entry under {@code root} (itself as "."), by relative path; symbolic links are not followed. */
    static Map<String, String> modes(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                String rel = root.relativize(p).toString();
                out.put(rel.isEmpty() ? "." : rel, mode(p));
            }
        }
        return out;
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
