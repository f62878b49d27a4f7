package io.blockrep.testkit.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaRuntimesTest {
    @TempDir
    Path dir;

    @Test
    void readsTheFeatureVersionFromTheReleaseFile() throws IOException {
        assertThat(JavaRuntimes.version(release("25", "JAVA_VERSION=\"25.0.3\""))).isEqualTo(25);
        assertThat(JavaRuntimes.version(release("21", "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"21\""))).isEqualTo(21);
        assertThat(JavaRuntimes.version(release("8", "JAVA_VERSION=\"1.8.0_402\""))).isEqualTo(8);
        assertThat(JavaRuntimes.version(release("bad", "JAVA_VERSION=\"twenty\""))).isZero();
        assertThat(JavaRuntimes.version(dir.resolve("none"))).isZero();
    }

    @Test
    void theRunningJvmCountsForItsOwnVersion() {
        assertThat(JavaRuntimes.javaExecutable(Runtime.version().feature())).isExecutable();
    }

    private Path release(String name, String content) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name));
        Files.writeString(home.resolve("release"), content + "\n");
        return home;
    }
}
