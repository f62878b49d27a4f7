package io.blockrep.kafka;

import io.blockrep.common.FatalException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Kafka (KRaft, combined broker and controller, node id 1) running inside this JVM,
 * for trials, the quickstart and tests.
 *
 * <p>Both listeners bind only {@link EmbeddedKafkaConfig#host()}: {@code PLAINTEXT://host:P} for
 * clients and {@code CONTROLLER://host:C} for the quorum. Optional secure client listeners
 * ({@link EmbeddedKafkaConfig.Builder#secureListener}: SSL, SASL_SSL) bind the same host; brokers
 * and the controller keep talking PLAINTEXT among themselves. A port given as 0 is chosen once, at the
 * first {@link #start()}, and kept: {@link #stop()} shuts the broker down but keeps its data and
 * its ports, so a later {@code start()} comes back at the same {@link #bootstrapServers()} with
 * the same topics and records. The data directory is formatted only when it holds no
 * {@code meta.properties}; an existing directory is reused as it is.
 *
 * <p>Single-node defaults: internal topics with replication factor 1 and min ISR 1, one partition
 * for the offsets topic, no initial rebalance delay, a small log-cleaner buffer. Automatic topic
 * creation is off ({@code auto.create.topics.enable=false}): callers create their topics, as they
 * must on a real cluster. Brokers refuse {@code segment.bytes} below 1 MiB; tests that need tiny
 * segments may set the topic config {@code internal.segment.bytes}. Any default can be overridden
 * with {@link EmbeddedKafkaConfig.Builder#property}.
 *
 * <p>Thread-safety: all methods are safe to call from any thread (they synchronize on this
 * object); {@code start()} and {@code stop()} block until the broker is up (unfenced) or fully
 * down. {@code stop()} may be called from a shutdown hook. After {@link #close()} the instance
 * cannot be started again.
 *
 * <p>Kafka's own loggers are noisy at INFO; quieting them is the caller's business. Note that a
 * fatal fault inside the broker may make Kafka halt the JVM, as it does in a standalone broker.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String BROKER_LISTENER = "PLAINTEXT";

    private final EmbeddedKafkaConfig config;
    private int brokerPort;
    private int controllerPort;
    private final Map<String, Integer> securePorts = new LinkedHashMap<>();
    private KafkaRaftServer server;
    private boolean closed;

    public EmbeddedKafka(EmbeddedKafkaConfig config) {
        this.config = config;
        this.brokerPort = config.brokerPort();
        this.controllerPort = config.controllerPort();
        this.securePorts.putAll(config.secureListeners());
    }

    /**
     * Formats the data directory if needed and starts the broker; returns once it serves clients.
     * Does nothing if it is already running.
     *
     * @throws BrokerPortInUseException if a listener port is taken
     * @throws FatalException if the broker cannot be formatted or started for another reason
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("embedded Kafka is closed");
        }
        if (server != null) {
            return;
        }
        long began = System.nanoTime();
        InetAddress address = resolveHost();
        if (brokerPort == 0 || controllerPort == 0) {
            pickFreePorts(address);
        }
        ensureFree(BROKER_LISTENER, address, brokerPort);
        ensureFree(CONTROLLER_LISTENER, address, controllerPort);
        pickSecurePorts(address);
        for (Map.Entry<String, Integer> l : securePorts.entrySet()) {
            ensureFree(l.getKey(), address, l.getValue());
        }
        Properties props = brokerProperties();
        formatIfNeeded();
        KafkaRaftServer starting = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        try {
            starting.startup();
        } catch (RuntimeException e) {
            shutDownQuietly(starting);
            throw translate(e);
        }
        server = starting;
        log.info("Embedded Kafka started at {} (controller {}:{}, data {}) in {} ms", bootstrapServers(),
                config.host(), controllerPort, config.dataDir(), (System.nanoTime() - began) / 1_000_000);
    }

    /** Shuts the broker down and waits for it; data and ports are kept for a later {@link #start()}. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        KafkaRaftServer stopping = server;
        server = null;
        long began = System.nanoTime();
        stopping.shutdown();
        stopping.awaitShutdown();
        log.info("Embedded Kafka at {} stopped in {} ms", bootstrapServers(),
                (System.nanoTime() - began) / 1_000_000);
    }

    /** Stops the broker (if running) for good; the data directory is left in place. */
    @Override
    public synchronized void close() {
        stop();
        closed = true;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /**
     * {@code host:port} of the PLAINTEXT listener. Stays the same across stop and start.
     *
     * @throws IllegalStateException if the broker port is 0 and the broker has never been started
     */
    public synchronized String bootstrapServers() {
        return hostForUrl() + ":" + brokerPort();
    }

    /**
     * {@code host:port} of the secure listener with {@code protocol} (SSL, SASL_SSL, ...).
     *
     * @throws IllegalArgumentException if there is no such listener
     * @throws IllegalStateException if its port is 0 and the broker has never been started
     */
    public synchronized String bootstrapServers(String protocol) {
        Integer port = securePorts.get(protocol);
        if (port == null) {
            throw new IllegalArgumentException("no " + protocol + " listener; configured: " + securePorts.keySet());
        }
        if (port == 0) {
            throw new IllegalStateException("ports are chosen at the first start(); the broker has not been started");
        }
        return hostForUrl() + ":" + port;
    }

    /** The PLAINTEXT listener's port; known after the first {@link #start()} when configured as 0. */
    public synchronized int brokerPort() {
        requirePorts();
        return brokerPort;
    }

    /** The CONTROLLER listener's port; known after the first {@link #start()} when configured as 0. */
    public synchronized int controllerPort() {
        requirePorts();
        return controllerPort;
    }

    public EmbeddedKafkaConfig config() {
        return config;
    }

    private void requirePorts() {
        if (brokerPort == 0 || controllerPort == 0) {
            throw new IllegalStateException("ports are chosen at the first start(); the broker has not been started");
        }
    }

    private Properties brokerProperties() {
        String host = hostForUrl();
        Properties p = new Properties();
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("process.roles", "broker,controller");
        p.put("controller.quorum.voters", NODE_ID + "@" + host + ":" + controllerPort);
        StringBuilder secure = new StringBuilder();
        StringBuilder protocols = new StringBuilder();
        securePorts.forEach((protocol, port) -> {
            secure.append(',').append(protocol).append("://").append(host).append(':').append(port);
            protocols.append(',').append(protocol).append(':').append(protocol);
        });
        p.put("listeners", BROKER_LISTENER + "://" + host + ":" + brokerPort + ","
                + CONTROLLER_LISTENER + "://" + host + ":" + controllerPort + secure);
        p.put("advertised.listeners", BROKER_LISTENER + "://" + host + ":" + brokerPort + secure);
        p.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT" + protocols);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", BROKER_LISTENER);
        p.put("log.dirs", config.dataDir().toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.putAll(config.extraProperties());
        return p;
    }

    private void formatIfNeeded() {
        Path dir = config.dataDir().toAbsolutePath();
        if (Files.exists(dir.resolve("meta.properties"))) {
            log.debug("Reusing formatted Kafka data directory {}", dir);
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String clusterId = Uuid.randomUuid().toString();
        try {
            Files.createDirectories(dir);
            new Formatter()
                    .setPrintStream(new PrintStream(out, true, StandardCharsets.UTF_8))
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(dir.toString()))
                    .setMetadataLogDirectory(dir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .run();
        } catch (Exception e) {
            throw new FatalException("cannot format Kafka data directory " + dir + ": " + e.getMessage(), e);
        }
        log.info("Formatted Kafka data directory {} for cluster {}", dir, clusterId);
        log.debug("Formatter output: {}", out.toString(StandardCharsets.UTF_8).strip());
    }

    private InetAddress resolveHost() {
        try {
            return InetAddress.getByName(config.host());
        } catch (IOException e) {
            throw new FatalException("cannot resolve embedded Kafka host " + config.host(), e);
        }
    }

    private void pickFreePorts(InetAddress address) {
        // Chosen once and remembered; another process could grab a port before Kafka binds it,
        // which then fails start() with BrokerPortInUseException like any busy port.
        try (ServerSocket a = new ServerSocket(0, 1, address); ServerSocket b = new ServerSocket(0, 1, address)) {
            if (brokerPort == 0) {
                brokerPort = a.getLocalPort();
            }
            if (controllerPort == 0) {
                controllerPort = b.getLocalPort() != brokerPort ? b.getLocalPort() : a.getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on " + address, e);
        }
    }

    /** Free ports for secure listeners configured with port 0; chosen once and remembered, like the others. */
    private void pickSecurePorts(InetAddress address) {
        for (Map.Entry<String, Integer> l : securePorts.entrySet()) {
            if (l.getValue() != 0) {
                continue;
            }
            int port;
            do {
                try (ServerSocket s = new ServerSocket(0, 1, address)) {
                    port = s.getLocalPort();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot find a free port on " + address, e);
                }
            } while (port == brokerPort || port == controllerPort || securePorts.containsValue(port));
            l.setValue(port);
        }
    }

    private void ensureFree(String listener, InetAddress address, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // as Kafka's acceptor does, so TIME_WAIT from our last run is no obstacle
            probe.bind(new InetSocketAddress(address, port), 1);
        } catch (BindException e) {
            throw new BrokerPortInUseException(listener, config.host(), port, e);
        } catch (IOException e) {
            throw new FatalException("cannot bind " + listener + " listener to " + config.host() + ":" + port, e);
        }
    }

    private RuntimeException translate(RuntimeException e) {
        boolean bind = false;
        boolean controller = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            bind |= t instanceof BindException;
            controller |= t.getMessage() != null && t.getMessage().contains(":" + controllerPort);
        }
        if (bind) {
            return controller
                    ? new BrokerPortInUseException(CONTROLLER_LISTENER, config.host(), controllerPort, e)
                    : new BrokerPortInUseException(BROKER_LISTENER, config.host(), brokerPort, e);
        }
        return new FatalException("embedded Kafka failed to start: " + e.getMessage(), e);
    }

    private static void shutDownQuietly(KafkaRaftServer s) {
        try {
            s.shutdown();
            s.awaitShutdown();
        } catch (RuntimeException suppressed) {
            log.warn("Error while shutting down a broker that failed to start", suppressed);
        }
    }

    private String hostForUrl() {
        String host = config.host();
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
