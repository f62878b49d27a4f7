package io.blockrep.cli;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code blockrep kafka}: runs the embedded single-node Kafka broker in the foreground until
 * Ctrl-C, for trials and the quickstart. Data stays in {@code --dir}, so a later run comes back
 * with the same topics and records.
 *
 * <p>Exit codes: 0 after a clean stop, 75 when a port is busy (or another transient failure),
 * 64 for bad arguments, 74 for anything fatal. Stopped by a signal (Ctrl-C, SIGTERM), the broker
 * is shut down cleanly by a shutdown hook, but the JVM then exits with the signal's status
 * (130, 143) as every JVM does; 0 is returned when the command is stopped through
 * {@link #requestStop()}.
 */
@Command(name = "kafka", mixinStandardHelpOptions = true,
        description = {
            "Run a single-node Kafka broker (KRaft, broker and controller in one process) in the foreground.",
            "For trials and tests; production deployments use an existing Kafka cluster.",
            "Data is kept in --dir across runs. Stop with Ctrl-C."
        })
public final class KafkaCommand implements Callable<Integer> {

    @Option(names = "--dir", paramLabel = "D", defaultValue = "./run/kafka",
            description = "Data directory (default: ${DEFAULT-VALUE}); formatted on first use.")
    Path dir;

    @Option(names = "--port", paramLabel = "P", defaultValue = "9092",
            description = "Client (PLAINTEXT) port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--controller-port", paramLabel = "C",
            description = "KRaft controller port; 0 picks a free one (default: --port + 1, or 0 when --port is 0).")
    Integer controllerPort;

    @Option(names = "--host", paramLabel = "H", defaultValue = EmbeddedKafkaConfig.DEFAULT_HOST,
            description = "The only address both listeners bind to (default: ${DEFAULT-VALUE}).")
    String host;

    @Spec
    CommandSpec spec;

    private final CountDownLatch stopRequested = new CountDownLatch(1);

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EmbeddedKafka kafka;
        try {
            kafka = new EmbeddedKafka(config());
        } catch (BlockrepException e) {
            err.println("blockrep kafka: " + e.getMessage());
            return e.exitCode();
        }
        // Registered before start() so Ctrl-C during start still ends with a clean shutdown.
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            kafka.close();
        }, "blockrep-kafka-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            kafka.start();
        } catch (RuntimeException e) {
            removeHook(hook);
            kafka.close();
            BlockrepException failure = e instanceof BlockrepException b
                    ? b : new FatalException("cannot start Kafka: " + e.getMessage(), e);
            err.println("blockrep kafka: " + failure.getMessage());
            return failure.exitCode();
        }

        out.printf("Kafka is running (single node, KRaft).%n");
        out.printf("  bootstrap.servers = %s%n", kafka.bootstrapServers());
        out.printf("  controller        = %s:%d%n", host, kafka.controllerPort());
        out.printf("  data              = %s%n", dir.toAbsolutePath().normalize());
        out.printf("Press Ctrl-C to stop it; the data is kept for the next run.%n");
        out.flush();

        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!removeHook(hook)) {
            return 0; // the JVM is shutting down; the hook stops the broker
        }
        kafka.close();
        out.printf("Kafka stopped.%n");
        out.flush();
        return 0;
    }

    /** Asks a running {@link #call()} to stop the broker and return 0. Safe from any thread. */
    public void requestStop() {
        stopRequested.countDown();
    }

    private EmbeddedKafkaConfig config() {
        int controller = controllerPort != null ? controllerPort : (port == 0 ? 0 : port + 1);
        List<String> problems = new ArrayList<>();
        if (port < 0 || port > 65535) {
            problems.add("--port must be 0..65535, was " + port);
        }
        if (controller < 0 || controller > 65535) {
            problems.add("--controller-port must be 0..65535, was " + controller);
        }
        if (port != 0 && port == controller) {
            problems.add("--port and --controller-port must differ, both are " + port);
        }
        if (host.isBlank()) {
            problems.add("--host must not be blank");
        }
        if (!problems.isEmpty()) {
            throw new InvalidInputException(problems, 64);
        }
        return EmbeddedKafkaConfig.builder(dir).brokerPort(port).controllerPort(controller).host(host).build();
    }

    private static boolean removeHook(Thread hook) {
        try {
            return Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }
}
