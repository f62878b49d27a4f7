package io.blockrep.cli;

import io.blockrep.testkit.ExternalCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.assertj.core.api.Assertions;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Runs a long-lived verb of the packaged jar ({@code producer}, {@code replayer}) with a properties
 * file, the way {@code bin/blockrep} launches it (with the Avro trusted-packages property), or as a
 * bare {@code java -jar}.
 */
public final class BlockrepProcess {
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final Path JAR = Path.of("target", "blockrep.jar").toAbsolutePath();

    private BlockrepProcess() {
    }

    /** Writes {@code props} to {@code file}. */
    public static Path write(Path file, Properties props) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            props.store(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * Writes {@code <dir>/<node>.properties} for a facility process of the kill and crash tests: the
     * node, its state under {@code dir}, its NBD and control ports, the link secret, link timings fast
     * enough for a test (damping 300 ms, heartbeat 100 ms, ack timeout 1 s), and one volume {@code vol}
     * of {@code size} bytes in {@code role}; {@code more} adds keys (link listen and peer, Kafka, ...).
     */
    public static Path facilityConfig(Path dir, String node, String role, long size, int nbd, int control, String secret,
                               Map<String, String> more) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("producer.node.id", node);
        p.put("producer.state.dir", dir.resolve(node).toString());
        p.put("producer.nbd.listen", "127.0.0.1:" + nbd);
        p.put("producer.control.listen", "127.0.0.1:" + control);
        p.put("producer.link.secret", secret);
        p.put("producer.link.restore.damping", "300ms");
        p.put("producer.link.heartbeat.interval", "100ms");
        p.put("producer.link.ack.timeout", "1s");
        p.put("producer.volumes", "vol");
        p.put("producer.volume.vol.size", Long.toString(size));
        p.put("producer.volume.vol.role", role);
        p.putAll(more);
        Path file = dir.resolve(node + ".properties");
        StringBuilder text = new StringBuilder();
        p.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * {@code more} plus the keys a facility of the kill tests adds for Kafka at {@code bootstrap} (3 dirty-topic
     * partitions) and for a link that reconnects fast (connect timeout 1 s, backoff at most 500 ms).
     */
    public static Map<String, String> withKafka(String bootstrap, Map<String, String> more) {
        Map<String, String> p = new LinkedHashMap<>(more);
        p.put("producer.link.connect.timeout", "1s");
        p.put("producer.link.backoff.max", "500ms");
        p.put("producer.kafka.bootstrap.servers", bootstrap);
        p.put("producer.topic.partitions", "3");
        return p;
    }

    /** {@code VERB --config FILE} with the JVM options of {@code bin/blockrep}; close (or kill) the handle to stop it. */
    public static ExternalCommand.Running start(String verb, Path config) {
        return ExternalCommand.start(List.of(JAVA, "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.blockrep.schemas", "-jar", JAR.toString(),
                verb, "--config", config.toString()));
    }

    /**
     * Starts a facility ({@code producer --config FILE}), adds it to {@code processes} (which the test
     * stops), and returns once its control API describes its volume; fails with its output if it exits.
     */
    public static ExternalCommand.Running startFacility(Path config, ControlApi control, StartedProcesses processes) {
        ExternalCommand.Running p = processes.add(start("producer", config));
        await(Awaitility.await().atMost(Duration.ofSeconds(60)), () -> !p.isAlive() || control.volume() != null, p);
        Assertions.assertThat(p.isAlive()).as(p.stderr()).isTrue();
        return p;
    }

    /** {@code ARGS...} (a verb and its arguments) with the JVM options of {@code bin/blockrep}. */
    public static ExternalCommand.Running startArgs(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(JAVA, "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=io.blockrep.schemas", "-jar",
                JAR.toString()));
        cmd.addAll(List.of(args));
        return ExternalCommand.start(cmd);
    }

    /** {@code java -jar blockrep.jar VERB --config FILE}, no JVM options: the packaged jar on its own. */
    static ExternalCommand.Running startBare(String verb, Path config) {
        return ExternalCommand.start(List.of(JAVA, "-jar", JAR.toString(), verb, "--config", config.toString()));
    }

    /**
     * Awaits {@code condition}; on a timeout fails with the output of {@code processes}, which is
     * where the reason usually is.
     */
    public static void await(ConditionFactory await, Callable<Boolean> condition, ExternalCommand.Running... processes) {
        try {
            await.until(condition);
        } catch (ConditionTimeoutException e) {
            StringBuilder out = new StringBuilder(e.getMessage());
            for (ExternalCommand.Running p : processes) {
                out.append("\n--- process ").append(p.pid()).append(p.isAlive() ? " (alive)" : " (exited)")
                        .append("\n").append(p.stdout()).append(p.stderr());
            }
            throw new AssertionError(out.toString(), e);
        }
    }
}
