package io.blockrep.common.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owner-only modes whatever the umask of the test JVM (022 on Debian: a plain file is created rw-r--r--). */
class FileModesTest {
    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void directoriesAndTheirMissingParentsAre0700() throws IOException {
        Path deep = dir.resolve("a/b/c");
        FileModes.createPrivateDirectories(deep);
        assertThat(mode(dir.resolve("a"))).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("a/b"))).isEqualTo("rwx------");
        assertThat(mode(deep)).isEqualTo("rwx------");
        FileModes.createPrivateDirectories(deep); // exists: no error
    }

    @Test
    void newFilesAre0600AndAnExistingFileKeepsItsModeUntilRestricted() throws IOException {
        Path created = FileModes.createPrivateFile(dir.resolve("created"));
        assertThat(mode(created)).isEqualTo("rw-------");
        try (FileChannel ch = FileModes.openPrivate(dir.resolve("opened"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertThat(ch.isOpen()).isTrue();
        }
        assertThat(mode(dir.resolve("opened"))).isEqualTo("rw-------");

        Path loose = Files.writeString(dir.resolve("loose"), "x");
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-rw-r--"));
        FileModes.openPrivate(loose, StandardOpenOption.WRITE).close();
        assertThat(mode(loose)).isEqualTo("rw-rw-r--");
        assertThat(FileModes.restrict(loose)).isTrue();
        assertThat(mode(loose)).isEqualTo("rw-------");
        assertThat(FileModes.restrict(loose)).isFalse();
    }

    @Test
    void writePrivateStringTightensAnExistingFile() throws IOException {
        Path secret = Files.writeString(dir.resolve("secret"), "old");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        FileModes.writePrivateString(secret, "new");
        assertThat(mode(secret)).isEqualTo("rw-------");
        assertThat(Files.readString(secret)).isEqualTo("new");
    }

    @Test
    void restrictTreeTightensFilesAndDirectoriesButNeverFollowsALink() throws IOException {
        Path outside = Files.writeString(dir.resolve("outside.img"), "operator's");
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-rw----"));
        Path root = Files.createDirectories(dir.resolve("state/volumes/v"));
        Files.setPosixFilePermissions(dir.resolve("state"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path meta = Files.writeString(root.resolve("volume.json"), "{}");
        Files.setPosixFilePermissions(meta, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(root.resolve("data.img"), outside);

        int changed = FileModes.restrictTree(dir.resolve("state"));

        assertThat(changed).isGreaterThanOrEqualTo(2);
        assertThat(mode(dir.resolve("state"))).isEqualTo("rwx------");
        assertThat(mode(root)).isEqualTo("rwx------");
        assertThat(mode(meta)).isEqualTo("rw-------");
        assertThat(mode(outside)).isEqualTo("rw-rw----");
    }

    @Test
    void warnsOnlyWhenGroupOrOthersHaveAccess() throws IOException {
        Path secret = Files.writeString(dir.resolve("token"), "t");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        assertThat(FileModes.warnIfExposed(secret, "holds a token")).isFalse();
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r-----"));
        assertThat(FileModes.warnIfExposed(secret, "holds a token")).isTrue();
        assertThat(FileModes.warnIfExposed(dir.resolve("missing"), "holds a token")).isFalse();
    }
}
