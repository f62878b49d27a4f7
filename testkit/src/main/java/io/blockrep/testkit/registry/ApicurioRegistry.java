package io.blockrep.testkit.registry;

import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry (3.x, the {@code io.apicurio:apicurio-registry-app} {@code all} tar.gz,
 * unpacked by the module's build into the directory the {@code blockrep.test.apicurio.home} system
 * property names) in a child process, for integration tests. JUnit 5 extension: register it as a
 * static field with {@code @RegisterExtension}; it starts before the class's tests and stops after.
 *
 * <p>The registry runs on a Java 21+ runtime found by {@link JavaRuntimes}, with in-memory storage,
 * its HTTP and management listeners on free 127.0.0.1 ports; start waits for the management health
 * endpoint to report ready. Tests talk to it only through {@link #ccompatUrl()}. With
 * {@link #withBasicAuth} every {@code /apis/*} request needs those credentials (Quarkus embedded
 * users and HTTP basic auth; no OIDC server needed). The process's output goes to
 * {@code apicurio-<port>.log} in {@code target/} (see {@link #logDirectory()}); a start that fails shows its tail.
 */
public final class ApicurioRegistry implements BeforeAllCallback, AfterAllCallback {
    public static final String HOME_PROPERTY = "blockrep.test.apicurio.home";
    public static final String LOGS_PROPERTY = "blockrep.test.apicurio.logs";
    private static final Logger LOG = LoggerFactory.getLogger(ApicurioRegistry.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private final Map<String, String> users = new LinkedHashMap<>();
    private Process process;
    private int httpPort;
    private int fixedPort;
    private int managementPort;
    private Path log;

    private ApicurioRegistry() {
    }

    public static ApicurioRegistry create() {
        return new ApicurioRegistry();
    }

    /**
     * Listens on {@code port} (0, the default: a free one found at start). For a test that points a
     * service at the registry before it runs: take a port from {@link FreePorts#find()}, start later.
     */
    public ApicurioRegistry onPort(int port) {
        this.fixedPort = port;
        return this;
    }

    /** Requires HTTP basic auth with this user on every API request. */
    public ApicurioRegistry withBasicAuth(String user, String password) {
        users.put(user, password);
        return this;
    }

    /** The Confluent-compatible API base, {@code http://127.0.0.1:P/apis/ccompat/v7}. */
    public String ccompatUrl() {
        requireStarted();
        return "http://127.0.0.1:" + httpPort + "/apis/ccompat/v7";
    }

    public int httpPort() {
        requireStarted();
        return httpPort;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** Starts the registry and waits until it is ready; an exception with the log's tail if it dies or does not get ready in time. */
    public synchronized void start() {
        if (process != null) {
            return;
        }
        Path home = home();
        Path java = JavaRuntimes.javaExecutable(21);
        httpPort = fixedPort > 0 ? fixedPort : FreePorts.find();
        managementPort = FreePorts.find();
        log = logDirectory().resolve("apicurio-" + httpPort + ".log");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx384m", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.management.host=127.0.0.1", "-Dquarkus.management.port=" + managementPort,
                "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2",
                "-Dquarkus.otel.sdk.disabled=true"));
        if (!users.isEmpty()) {
            cmd.addAll(List.of("-Dquarkus.http.auth.basic=true", "-Dquarkus.security.users.embedded.enabled=true",
                    "-Dquarkus.security.users.embedded.plain-text=true",
                    "-Dquarkus.http.auth.permission.api.paths=/apis/*", "-Dquarkus.http.auth.permission.api.policy=authenticated"));
            users.forEach((u, p) -> cmd.add("-Dquarkus.security.users.embedded.users." + u + "=" + p));
        }
        cmd.addAll(List.of("-jar", home.resolve("quarkus-run.jar").toString()));
        LOG.info("starting Apicurio Registry on 127.0.0.1:{} (management {}) with {}; log {}", httpPort, managementPort, java, log);
        try {
            process = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "apicurio-stop"));
        long t0 = System.nanoTime();
        try {
            awaitReady();
        } catch (RuntimeException | Error e) {
            String tail = tail();
            stop();
            throw new IllegalStateException("Apicurio Registry did not get ready: " + e.getMessage() + "\n--- " + log + " (tail)\n" + tail, e);
        }
        LOG.info("Apicurio Registry ready at {} after {} ms", ccompatUrl(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** Stops the process (SIGTERM, then SIGKILL after 15 s). Idempotent. */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        process = null;
        p.destroy();
        try {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI health = URI.create("http://127.0.0.1:" + managementPort + "/health/ready");
        Process p = process;
        org.awaitility.Awaitility.await("Apicurio Registry ready at " + health).atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(250)).ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    if (!p.isAlive()) {
                        throw new IllegalStateException("the registry process exited with status " + p.exitValue());
                    }
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() == 200;
                });
    }

    private static Path home() {
        String dir = System.getProperty(HOME_PROPERTY);
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("-D" + HOME_PROPERTY + " is not set: the module's pom unpacks io.apicurio:apicurio-registry-app"
                    + ":tar.gz:all and passes its directory to failsafe");
        }
        Path home = Path.of(dir);
        if (!Files.isRegularFile(home.resolve("quarkus-run.jar"))) {
            throw new IllegalStateException("no quarkus-run.jar in " + home + " (" + HOME_PROPERTY + "): is the registry unpacked there?");
        }
        return home;
    }

    /** {@code -Dblockrep.test.apicurio.logs}, else {@code ./target} when there is one, else the temp directory. */
    private static Path logDirectory() {
        String dir = System.getProperty(LOGS_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir).toAbsolutePath();
        }
        Path target = Path.of("target").toAbsolutePath();
        return Files.isDirectory(target) ? target : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void requireStarted() {
        if (process == null) {
            throw new IllegalStateException("the registry is not running (register the extension with @RegisterExtension, or call start())");
        }
    }
}
