package io.blockrep.testkit.kafka;

import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two independent one-node KRaft clusters in this JVM, one per site alias (by default {@code site-a} and
 * {@code site-b}, the aliases of {@code connect-config/mm2.properties}), each an {@link EmbeddedKafka} in
 * its own temp directory on free loopback ports, with its own cluster id. Closing stops both and deletes
 * their data. Always embedded, also under {@code -Pdocker}: the two-cluster tests (MirrorMaker 2 between
 * the sites, a site's cluster stopped and started) need two clusters and restarts a container flavour does
 * not give. Not thread-safe for start and close; the accessors may be called from any thread.
 */
public final class TwoSiteKafka implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TwoSiteKafka.class);
    public static final List<String> DEFAULT_SITES = List.of("site-a", "site-b");

    private final Map<String, EmbeddedKafka> clusters = new LinkedHashMap<>();
    private final Map<String, Path> dirs = new LinkedHashMap<>();
    private final Map<String, Admin> admins = new LinkedHashMap<>();

    private TwoSiteKafka() {
    }

    /** Starts {@code site-a} and {@code site-b}. */
    public static TwoSiteKafka start() {
        return start(DEFAULT_SITES);
    }

    public static TwoSiteKafka start(List<String> sites) {
        TwoSiteKafka k = new TwoSiteKafka();
        try {
            for (String site : sites) {
                Path dir = Files.createTempDirectory("blockrep-kafka-" + site + "-");
                k.dirs.put(site, dir);
                EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(dir).build());
                k.clusters.put(site, kafka);
                kafka.start();
                log.info("site {}: Kafka at {}", site, kafka.bootstrapServers());
            }
        } catch (IOException | RuntimeException e) {
            k.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        return k;
    }

    public List<String> sites() {
        return List.copyOf(clusters.keySet());
    }

    public String bootstrapServers(String site) {
        return cluster(site).bootstrapServers();
    }

    /** The cluster itself, e.g. to stop and start it (data and address are kept). */
    public EmbeddedKafka cluster(String site) {
        EmbeddedKafka k = clusters.get(site);
        if (k == null) {
            throw new IllegalArgumentException("no site " + site + "; sites: " + clusters.keySet());
        }
        return k;
    }

    /** An admin client of {@code site}'s cluster, closed with this object. */
    public synchronized Admin admin(String site) {
        return admins.computeIfAbsent(site, s -> {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(s));
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "testkit-admin-" + s);
            return Admin.create(p);
        });
    }

    @Override
    public synchronized void close() {
        admins.values().forEach(Admin::close);
        admins.clear();
        clusters.values().forEach(EmbeddedKafka::close);
        clusters.clear();
        for (Path dir : dirs.values()) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                log.warn("cannot delete {}", dir, e);
            }
        }
        dirs.clear();
    }
}
