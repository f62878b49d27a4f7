package io.blockrep.testkit.kafka;

import io.blockrep.kafka.EmbeddedMirrorMaker;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MirrorMaker 2 in dedicated mode, inside this JVM, configured from a deployable properties file
 * (by default the repository's {@code connect-config/mm2.properties}), for tests.
 *
 * <p>What the file says is what runs: the helper replaces only
 * <ul>
 *   <li>{@code <alias>.bootstrap.servers} of each cluster ({@link Builder#bootstrapServers});</li>
 *   <li>{@code plugin.discovery=service_load}, top level and as {@code <alias>.plugin.discovery} (each
 *       flow's worker reads only its target's prefixed keys): without it the Connect runtime also scans
 *       the whole test class path for plugins by reflection (slow on two cores, and a warning); the
 *       MirrorMaker connectors are found through their ServiceLoader manifests either way;</li>
 *   <li>with {@link Builder#oneBrokerClusters} (on by default) the replication factor of every topic
 *       MirrorMaker creates ({@link #REPLICATION_FACTOR_KEYS}) is 1: a one-broker cluster cannot
 *       create a topic with more replicas than brokers, so the deployed 3 would fail every create;</li>
 *   <li>whatever a test sets with {@link Builder#override}, which it must say in its own code (for
 *       example the identity replication policy, which the file documents as an alternative).</li>
 * </ul>
 *
 * <p>{@link #start()} returns once every connector of every enabled flow runs; records then flow
 * as soon as MirrorMaker's tasks have their partitions. The file's topics must exist on the source
 * when MirrorMaker starts, or a test waits up to {@code refresh.topics.interval.seconds} for them to
 * be found. {@link #close()} stops MirrorMaker and waits for it.
 *
 * <p>Runs {@link EmbeddedMirrorMaker} (kafka-embedded, which {@code quickstart --two-clusters} uses too),
 * so the overrides above are the same ones the quickstart makes. Not thread-safe: one test thread
 * starts and closes it.
 */
public final class MirrorMaker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MirrorMaker.class);

    /** The deployable file, relative to the repository root. */
    public static final String CONFIG_FILE = "connect-config/mm2.properties";

    /** The replication factors {@link Builder#oneBrokerClusters} sets to 1. */
    public static final List<String> REPLICATION_FACTOR_KEYS = EmbeddedMirrorMaker.REPLICATION_FACTOR_KEYS;

    /** The connectors MirrorMaker runs for each enabled flow. */
    public static final List<Class<?>> CONNECTORS = EmbeddedMirrorMaker.CONNECTORS;

    private final EmbeddedMirrorMaker mirrorMaker;

    private MirrorMaker(Map<String, String> properties) {
        this.mirrorMaker = new EmbeddedMirrorMaker(properties);
    }

    /** A builder for the repository's {@value #CONFIG_FILE}. */
    public static Builder fromRepository() {
        return new Builder(repositoryRoot().resolve(CONFIG_FILE));
    }

    public static Builder fromFile(Path file) {
        return new Builder(file);
    }

    /**
     * The repository root: the system property {@code blockrep.repo.root} if set, else the nearest
     * directory at or above the working directory (a module directory under Maven) that holds
     * {@value #CONFIG_FILE}.
     */
    public static Path repositoryRoot() {
        String given = System.getProperty("blockrep.repo.root");
        if (given != null) {
            return Path.of(given).toAbsolutePath();
        }
        Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(CONFIG_FILE))) {
                return dir;
            }
        }
        throw new IllegalStateException("no " + CONFIG_FILE + " at or above " + start
                + "; set -Dblockrep.repo.root to the repository root");
    }

    /** Reads a .properties file the way MirrorMaker's own launcher does (keys and values as strings). */
    public static Map<String, String> load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    /** The configuration MirrorMaker runs with: the file plus the overrides. */
    public Map<String, String> properties() {
        return mirrorMaker.properties();
    }

    /** The flows the configuration enables, e.g. site-a->site-b. */
    public List<SourceAndTarget> flows() {
        return mirrorMaker.flows();
    }

    /** Starts MirrorMaker and waits until every connector of every enabled flow is RUNNING. */
    public MirrorMaker start() {
        try {
            mirrorMaker.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while MirrorMaker started", e);
        }
        return this;
    }

    /** Stops MirrorMaker and waits until it is down. Idempotent. */
    @Override
    public void close() {
        mirrorMaker.close();
    }

    /** Collects the overrides of the file; see the class comment for which exist and why. */
    public static final class Builder {
        private final Path file;
        private final Map<String, String> bootstrap = new LinkedHashMap<>();
        private final Map<String, String> overrides = new LinkedHashMap<>();
        private boolean oneBroker = true;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        /** {@code <alias>.bootstrap.servers}; the alias must be one of the file's {@code clusters}. */
        public Builder bootstrapServers(String alias, String servers) {
            bootstrap.put(Objects.requireNonNull(alias, "alias"), Objects.requireNonNull(servers, "servers"));
            return this;
        }

        /** Replication factor 1 for every topic MirrorMaker creates (default on). */
        public Builder oneBrokerClusters(boolean on) {
            this.oneBroker = on;
            return this;
        }

        /** Any other setting a test deliberately changes (logged at start). */
        public Builder override(String key, String value) {
            overrides.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The configuration, without starting anything. */
        public MirrorMaker build() {
            Map<String, String> p;
            try {
                p = new LinkedHashMap<>(EmbeddedMirrorMaker.forEmbeddedClusters(load(file), bootstrap, oneBroker));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            if (!overrides.isEmpty()) {
                log.info("MirrorMaker from {} with test overrides {}", file, overrides);
            }
            p.putAll(overrides);
            return new MirrorMaker(p);
        }

        /** {@link #build()} and {@link MirrorMaker#start()}. */
        public MirrorMaker start() {
            return build().start();
        }
    }
}
