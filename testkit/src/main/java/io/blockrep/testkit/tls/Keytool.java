package io.blockrep.testkit.tls;

import io.blockrep.testkit.ExternalCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The JDK's {@code keytool} (of the running JVM) on PKCS12 stores that share one password: the one
 * runner of the tests that make certificates with it. Stateless and thread-safe.
 */
public final class Keytool {
    private static final String KEYTOOL = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString();

    private Keytool() {
    }

    /**
     * {@code keytool ARGS -storetype PKCS12 -storepass PASSWORD} (and {@code -keypass PASSWORD} for
     * {@code -genkeypair}); fails with keytool's output when it exits non-zero.
     */
    public static void run(String password, String... args) {
        List<String> cmd = new ArrayList<>(List.of(KEYTOOL));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", password));
        if (args.length > 0 && args[0].equals("-genkeypair")) {
            cmd.addAll(List.of("-keypass", password));
        }
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), cmd);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("keytool failed: " + r.describe());
        }
    }
}
