package io.blockrep.testkit.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds an installed Java runtime of at least a given feature version, without a hard-coded path:
 * the {@code blockrep.test.java21.home} system property or {@code BLOCKREP_TEST_JAVA21_HOME}
 * environment variable if set, then {@code JAVA_HOME}, the running JVM, and every directory under
 * {@code /usr/lib/jvm}, {@code /usr/java}, {@code /opt/java} and {@code /opt}; a runtime counts when
 * its {@code release} file says {@code JAVA_VERSION >= N} and it has {@code bin/java}. The newest wins.
 */
public final class JavaRuntimes {
    private JavaRuntimes() {
    }

    /** A {@code bin/java} of version ≥ {@code feature}; an {@link IllegalStateException} naming where it looked when there is none. */
    public static Path javaExecutable(int feature) {
        List<Path> looked = new ArrayList<>();
        Optional<Path> home = candidates().stream().peek(looked::add)
                .filter(h -> Files.isExecutable(h.resolve("bin/java")))
                .filter(h -> version(h) >= feature)
                .max(Comparator.comparingInt(JavaRuntimes::version));
        return home.map(h -> h.resolve("bin/java")).orElseThrow(() -> new IllegalStateException("no Java " + feature
                + "+ runtime found (looked in " + looked + "); install one or point -Dblockrep.test.java21.home at it"));
    }

    private static Set<Path> candidates() {
        Set<Path> out = new LinkedHashSet<>();
        add(out, System.getProperty("blockrep.test.java21.home"));
        add(out, System.getenv("BLOCKREP_TEST_JAVA21_HOME"));
        add(out, System.getenv("JAVA_HOME"));
        add(out, System.getProperty("java.home"));
        for (String root : new String[] {"/usr/lib/jvm", "/usr/java", "/opt/java", "/opt"}) {
            Path r = Path.of(root);
            if (Files.isDirectory(r)) {
                try (Stream<Path> dirs = Files.list(r)) {
                    dirs.filter(Files::isDirectory).sorted().forEach(out::add);
                } catch (IOException e) {
                    // an unreadable root is one place fewer to look
                }
            }
        }
        return out;
    }

    private static void add(Set<Path> out, String dir) {
        if (dir != null && !dir.isBlank()) {
            out.add(Path.of(dir));
        }
    }

    /** The feature version from {@code <home>/release} ({@code JAVA_VERSION="25.0.3"} → 25; "1.8.0" → 8), or 0. */
    static int version(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(release)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            return 0;
        }
        String v = p.getProperty("JAVA_VERSION", "").replace("\"", "").trim();
        String[] parts = v.split("[.+-]");
        try {
            int first = Integer.parseInt(parts[0]);
            return first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
