package io.blockrep.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.connect.mirror.MirrorCheckpointConnector;
import org.apache.kafka.connect.mirror.MirrorHeartbeatConnector;
import org.apache.kafka.connect.mirror.MirrorMaker;
import org.apache.kafka.connect.mirror.MirrorMakerConfig;
import org.apache.kafka.connect.mirror.MirrorSourceConnector;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MirrorMaker 2 in dedicated mode inside this JVM, for trials on loopback ({@code blockrep quickstart
 * --two-clusters}): the configuration of a deployable {@code mm2.properties} with only what one-broker
 * embedded clusters need changed ({@link #forEmbeddedClusters}).
 *
 * <p>{@link #start()} returns once every connector of every enabled flow is RUNNING (or fails after
 * {@link #START_TIMEOUT}); {@link #close()} stops MirrorMaker and waits for it. Not thread-safe: one
 * thread starts and closes it.
 */
public final class EmbeddedMirrorMaker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedMirrorMaker.class);

    /** The replication factors {@link #forEmbeddedClusters} sets to 1: a one-broker cluster cannot hold more replicas. */
    public static final List<String> REPLICATION_FACTOR_KEYS = List.of(
            "replication.factor",
            "checkpoints.topic.replication.factor",
            "heartbeats.topic.replication.factor",
            "offset-syncs.topic.replication.factor",
            "offset.storage.replication.factor",
            "status.storage.replication.factor",
            "config.storage.replication.factor");

    /** The connectors MirrorMaker runs for each enabled flow. */
    public static final List<Class<?>> CONNECTORS = List.of(
            MirrorSourceConnector.class, MirrorCheckpointConnector.class, MirrorHeartbeatConnector.class);

    public static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Map<String, String> properties;
    private final MirrorMakerConfig config;
    private MirrorMaker running;

    public EmbeddedMirrorMaker(Map<String, String> properties) {
        this.properties = Map.copyOf(properties);
        this.config = new MirrorMakerConfig(this.properties);
    }

    /**
     * {@code file} with {@code <alias>.bootstrap.servers} of each alias in {@code bootstrap} replaced,
     * {@code plugin.discovery=service_load} (top level for MirrorMakerConfig's own plugin loader, and
     * per alias for each flow's Connect worker, which takes only its target's prefixed keys; without it
     * the runtime scans the whole class path for plugins by reflection) and, when {@code oneBroker},
     * every {@link #REPLICATION_FACTOR_KEYS replication factor} 1. Sorted by key.
     *
     * @throws IllegalArgumentException when an alias is not one of the file's {@code clusters}
     */
    public static Map<String, String> forEmbeddedClusters(Map<String, String> file, Map<String, String> bootstrap, boolean oneBroker) {
        Map<String, String> p = new LinkedHashMap<>(file);
        List<String> clusters = List.of(p.getOrDefault("clusters", "").trim().split("\\s*,\\s*"));
        bootstrap.forEach((alias, servers) -> {
            if (!clusters.contains(alias)) {
                throw new IllegalArgumentException("cluster alias " + alias + " is not in the MirrorMaker file's clusters " + clusters);
            }
            p.put(alias + ".bootstrap.servers", servers);
        });
        p.put("plugin.discovery", "service_load");
        clusters.forEach(alias -> p.put(alias + ".plugin.discovery", "service_load"));
        if (oneBroker) {
            REPLICATION_FACTOR_KEYS.forEach(k -> p.put(k, "1"));
        }
        Map<String, String> sorted = new LinkedHashMap<>();
        p.keySet().stream().sorted().forEach(k -> sorted.put(k, p.get(k)));
        return sorted;
    }

    /** Reads a .properties stream the way MirrorMaker's own launcher does (keys and values as strings), sorted by key. */
    public static Map<String, String> load(InputStream in, String name) {
        Properties p = new Properties();
        try (in) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name, e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    /** The configuration MirrorMaker runs with. */
    public Map<String, String> properties() {
        return properties;
    }

    /** The flows the configuration enables, e.g. site-a->site-b. */
    public List<SourceAndTarget> flows() {
        return config.clusterPairs();
    }

    /** Starts MirrorMaker and waits until every connector of every enabled flow is RUNNING. */
    public EmbeddedMirrorMaker start() throws InterruptedException {
        if (running != null) {
            throw new IllegalStateException("already started");
        }
        long began = System.nanoTime();
        running = new MirrorMaker(properties, null);
        running.start();
        long deadline = began + START_TIMEOUT.toNanos();
        while (!allConnectorsRunning()) {
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("MirrorMaker's connectors of " + flows() + " are not all RUNNING after " + START_TIMEOUT);
            }
            Thread.sleep(200); // MirrorMaker has no start callback; its connector status is polled
        }
        log.info("MirrorMaker running flows {} in {} ms", flows(), (System.nanoTime() - began) / 1_000_000);
        return this;
    }

    private boolean allConnectorsRunning() {
        for (SourceAndTarget flow : flows()) {
            for (Class<?> connector : CONNECTORS) {
                ConnectorStateInfo info;
                try {
                    info = running.connectorStatus(flow, connector.getSimpleName());
                } catch (RuntimeException notYet) {
                    return false; // the flow's herder is still starting
                }
                if (info == null || !"RUNNING".equals(info.connector().state())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Stops MirrorMaker and waits until it is down. Idempotent. */
    @Override
    public void close() {
        if (running == null) {
            return;
        }
        MirrorMaker stopping = running;
        running = null;
        long began = System.nanoTime();
        stopping.stop();
        stopping.awaitStop();
        log.info("MirrorMaker stopped in {} ms", (System.nanoTime() - began) / 1_000_000);
    }
}
