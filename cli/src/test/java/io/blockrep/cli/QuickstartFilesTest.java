package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reproduction 6 of issue #13, quickstart half: its link secret and the replayer properties holding it were 0644. */
class QuickstartFilesTest {
    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void theLinkSecretAndTheReplayerPropertiesAreOwnerOnly() throws IOException {
        Path base = dir.resolve("quickstart");
        String secret = QuickstartCommand.secret(base);
        assertThat(secret).hasSize(48);
        assertThat(mode(base)).isEqualTo("rwx------");
        assertThat(mode(base.resolve("link.secret"))).isEqualTo("rw-------");

        Properties p = new Properties();
        p.setProperty("replayer.link.secret", secret);
        Path props = base.resolve(QuickstartCommand.REPLAYER_PROPERTIES);
        QuickstartCommand.writeReplayerProperties(props, p);
        assertThat(mode(props)).isEqualTo("rw-------");
        assertThat(Files.readString(props)).contains("replayer.link.secret=" + secret);
    }

    @Test
    void anOlderRunsLooseSecretIsTightenedAndKept() throws IOException {
        Path base = Files.createDirectories(dir.resolve("old"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = Files.writeString(base.resolve("link.secret"), "00112233445566778899aabbccddeeff\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(QuickstartCommand.secret(base)).isEqualTo("00112233445566778899aabbccddeeff");
        assertThat(mode(file)).isEqualTo("rw-------");
        assertThat(mode(base)).isEqualTo("rwx------");
    }
}
