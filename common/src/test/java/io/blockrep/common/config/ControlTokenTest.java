package io.blockrep.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlTokenTest {
    @TempDir
    Path dir;

    @Test
    void aCreatedTokenIsRandomReadableByItsOwnerOnlyAndReadsBack() throws Exception {
        Path file = dir.resolve("sub/control.token");
        String token = ControlToken.create(file);
        assertThat(token).hasSize(32).matches("[0-9a-f]+");
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(ControlToken.read("k", file)).isEqualTo(token);
        assertThat(ControlToken.create(dir.resolve("other.token"))).isNotEqualTo(token);
    }

    @Test
    void unusableTokenFilesAreNamedProblems() throws Exception {
        assertThat(ControlToken.problem("k", dir.resolve("missing"))).startsWith("k: cannot read");
        Files.writeString(dir.resolve("short"), "short\n");
        assertThat(ControlToken.problem("k", dir.resolve("short"))).contains("at least 16");
        Files.writeString(dir.resolve("spaces"), "two words of a token\n");
        assertThat(ControlToken.problem("k", dir.resolve("spaces"))).contains("no spaces");
        assertThatThrownBy(() -> ControlToken.read("k", dir.resolve("short"))).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void onlyLoopbackNamesAreLoopback() {
        assertThat(ControlToken.isLoopback("127.0.0.1")).isTrue();
        assertThat(ControlToken.isLoopback("::1")).isTrue();
        assertThat(ControlToken.isLoopback("localhost")).isTrue();
        assertThat(ControlToken.isLoopback("0.0.0.0")).isFalse();
        assertThat(ControlToken.isLoopback("::")).isFalse();
        assertThat(ControlToken.isLoopback("192.0.2.1")).isFalse();
    }
}
