package io.blockrep.cli.quickstart;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileModes;
import io.blockrep.kafka.EmbeddedMirrorMaker;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The configurations {@code blockrep quickstart} runs with, one place for them: facility site-a
 * (PRIMARY of the demo volume), facility site-b (SECONDARY) and the replayer, all on 127.0.0.1 and
 * one Kafka cluster or two. The quickstart starts them in its own process; {@code --write-configs} writes
 * the same ones as files ({@link #write}) for separate processes. {@code BLOCKREP_*} environment
 * overrides are not applied here: whoever turns these into a {@code ProducerConfig} or
 * {@code ReplayerConfig} applies them, the quickstart and {@code blockrep producer --config} alike.
 *
 * <p>Two {@link Layout}s: one cluster for everything, or ({@code --two-clusters}) each site logging to
 * its own cluster with MirrorMaker 2 mirroring both ways from the repository's
 * {@code connect-config/mm2.properties} (packaged in the cli jar), and the replayer on site-b's
 * cluster reading site-a's records under their mirrored names ({@code site-a.blockrep.dirty});
 * {@link #files()} then adds {@value #MM2_FILE}.
 *
 * <p>Immutable and thread-safe.
 */
public final class QuickstartConfigs {
    public static final String VOLUME = "demo";
    public static final String SITE_A = "site-a";
    public static final String SITE_B = "site-b";
    public static final String REPLAYER_ID = "quickstart-replayer";
    public static final List<String> NODES = List.of(SITE_A, SITE_B, REPLAYER_ID);
    /** site-b's ports are site-a's plus this. */
    public static final int SITE_B_OFFSET = 10;
    public static final String SITE_A_FILE = "site-a.properties";
    public static final String SITE_B_FILE = "site-b.properties";
    public static final String REPLAYER_FILE = "replayer.properties";
    public static final String MM2_FILE = "mm2.properties";
    /** The deployable MirrorMaker 2 file, copied into the cli jar at build time from the repository's connect-config/. */
    public static final String MM2_RESOURCE = "/connect-config/mm2.properties";

    /** Where the Kafka topics live. */
    public enum Layout {
        /** One embedded cluster that both sites and the replayer use. */
        ONE_CLUSTER,
        /** site-a logs to cluster A, site-b and the replayer use cluster B; MirrorMaker 2 mirrors between them. */
        TWO_CLUSTERS
    }

    /** The Kafka cluster(s): each site's bootstrap servers (the same for {@link Layout#ONE_CLUSTER}). */
    public record Clusters(Layout layout, String siteA, String siteB) {
        public static Clusters one(String bootstrap) {
            return new Clusters(Layout.ONE_CLUSTER, bootstrap, bootstrap);
        }

        public static Clusters two(String siteA, String siteB) {
            return new Clusters(Layout.TWO_CLUSTERS, siteA, siteB);
        }
    }

    /** A node's TLS keys for the link, by node id and key prefix (producer.link.tls. or replayer.link.tls.); empty for none. */
    @FunctionalInterface
    public interface LinkTls {
        LinkTls NONE = (node, prefix) -> new Properties();

        Properties properties(String node, String prefix);
    }

    /** What the quickstart's options decide. */
    public record Settings(Path base, Clusters kafka, int nbdPort, int controlPort, long volumeSize, String secret,
                           Path tokenFile, LinkTls linkTls, boolean autosync) {
        /** site-a's link port (the replayer's reads, site-b's writes after a role switch). */
        public int siteALinkPort() {
            return controlPort - 1;
        }

        public int siteBLinkPort() {
            return controlPort + SITE_B_OFFSET - 1;
        }
    }

    /** A facility's addresses as the replayer reaches them. */
    public record Endpoint(String node, String host, int linkPort, int controlPort) {
    }

    private final Settings s;

    public QuickstartConfigs(Settings settings) {
        this.s = settings;
    }

    public Settings settings() {
        return s;
    }

    public Layout layout() {
        return s.kafka().layout();
    }

    public Properties siteA() {
        Properties a = site(SITE_A, "PRIMARY", s.nbdPort(), s.controlPort(), s.kafka().siteA());
        a.setProperty("producer.link.listen", "127.0.0.1:" + s.siteALinkPort());
        a.setProperty("producer.link.peer", "127.0.0.1:" + s.siteBLinkPort());
        a.setProperty("producer.link.peer.id", SITE_B);
        a.putAll(s.linkTls().properties(SITE_A, "producer.link.tls."));
        return a;
    }

    /** Each site listens and connects to the other: roles can move (blockrep promote / demote). */
    public Properties siteB() {
        Properties b = site(SITE_B, "SECONDARY", s.nbdPort() + SITE_B_OFFSET, s.controlPort() + SITE_B_OFFSET, s.kafka().siteB());
        b.setProperty("producer.link.listen", "127.0.0.1:" + s.siteBLinkPort());
        b.setProperty("producer.link.peer", "127.0.0.1:" + s.siteALinkPort());
        b.setProperty("producer.link.peer.id", SITE_A);
        b.putAll(s.linkTls().properties(SITE_B, "producer.link.tls."));
        return b;
    }

    /** The replayer, reaching the facilities where they were configured to listen. */
    public Properties replayer() {
        return replayer(List.of(new Endpoint(SITE_A, "127.0.0.1", s.siteALinkPort(), s.controlPort()),
                new Endpoint(SITE_B, "127.0.0.1", s.siteBLinkPort(), s.controlPort() + SITE_B_OFFSET)));
    }

    /** The replayer, reaching the facilities at {@code sites} (where running ones actually listen). */
    public Properties replayer(List<Endpoint> sites) {
        Properties p = new Properties();
        p.setProperty("replayer.control.token.file", s.tokenFile().toString());
        p.setProperty("replayer.id", REPLAYER_ID);
        p.putAll(s.linkTls().properties(REPLAYER_ID, "replayer.link.tls."));
        p.setProperty("replayer.kafka.bootstrap.servers", s.kafka().siteB());
        if (layout() == Layout.TWO_CLUSTERS) {
            // site-b's cluster holds site-b's own topics and site-a's as MirrorMaker's default policy names them
            p.setProperty("replayer.mirror.policy", "default");
            p.setProperty("replayer.mirror.peer.aliases", SITE_A);
        }
        p.setProperty("replayer.link.secret", s.secret());
        p.setProperty("replayer.nodes", SITE_A + "," + SITE_B);
        for (Endpoint site : sites) {
            p.setProperty("replayer.node." + site.node() + ".link", site.host() + ":" + site.linkPort());
            p.setProperty("replayer.node." + site.node() + ".control", site.host() + ":" + site.controlPort());
        }
        p.setProperty("replayer.metrics.listen", "127.0.0.1:0"); // served by the service only, never by the ops verbs; its URL is printed
        p.setProperty("replayer.volumes", VOLUME);
        p.setProperty("replayer.volume." + VOLUME + ".nodes", SITE_A + "," + SITE_B);
        return p;
    }

    /** File name to contents, in the order the processes are started: site-b, site-a, (MirrorMaker 2,) the replayer. */
    public Map<String, Properties> files() {
        Map<String, Properties> files = new LinkedHashMap<>();
        files.put(SITE_B_FILE, siteB());
        files.put(SITE_A_FILE, siteA());
        if (layout() == Layout.TWO_CLUSTERS) {
            Properties mm2 = new Properties();
            mm2.putAll(mirrorMaker());
            files.put(MM2_FILE, mm2);
        }
        files.put(REPLAYER_FILE, replayer());
        return files;
    }

    /**
     * The MirrorMaker 2 configuration of {@link Layout#TWO_CLUSTERS}: {@value #MM2_RESOURCE} with each
     * alias's bootstrap servers, {@code plugin.discovery=service_load} and (one-broker clusters)
     * replication factor 1 ({@link EmbeddedMirrorMaker#forEmbeddedClusters}).
     */
    public Map<String, String> mirrorMaker() {
        if (layout() != Layout.TWO_CLUSTERS) {
            throw new IllegalStateException("MirrorMaker runs only in the two-cluster layout");
        }
        InputStream in = QuickstartConfigs.class.getResourceAsStream(MM2_RESOURCE);
        if (in == null) {
            throw new FatalException(MM2_RESOURCE + " is missing from the class path (it is copied from connect-config/ into the cli jar)");
        }
        return EmbeddedMirrorMaker.forEmbeddedClusters(EmbeddedMirrorMaker.load(in, MM2_RESOURCE),
                Map.of(SITE_A, s.kafka().siteA(), SITE_B, s.kafka().siteB()), true);
    }

    /** Writes {@link #files()} into {@code dir}, each 0600 (they hold the link secret); returns the paths in that order. */
    public List<Path> write(Path dir) {
        try {
            FileModes.createPrivateDirectories(dir);
        } catch (IOException e) {
            throw new FatalException("cannot make " + dir + ": " + e.getMessage(), e);
        }
        return files().entrySet().stream().map(f -> {
            Path file = dir.resolve(f.getKey());
            writePrivate(file, f.getValue(), f.getKey().equals(MM2_FILE)
                    ? "connect-config/mm2.properties as blockrep quickstart --two-clusters runs it (bootstrap servers, plugin.discovery and"
                            + " one-broker replication factors set); run with Kafka's bin/connect-mirror-maker.sh"
                    : "written by blockrep quickstart --write-configs");
            return file;
        }).toList();
    }

    /** Writes {@code p} as a properties file that only its owner can read, whatever the umask. */
    public static void writePrivate(Path file, Properties p, String comment) {
        try {
            StringWriter w = new StringWriter();
            p.store(w, comment);
            FileModes.writePrivateString(file, w.toString());
        } catch (IOException e) {
            throw new FatalException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private Properties site(String node, String role, int nbd, int control, String kafkaBootstrap) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", node);
        p.setProperty("producer.state.dir", s.base().resolve(node).toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:" + nbd);
        p.setProperty("producer.control.listen", "127.0.0.1:" + control);
        p.setProperty("producer.metrics.listen", "127.0.0.1:0"); // a free port; the facility prints its metrics URL
        p.setProperty("producer.control.token.file", s.tokenFile().toString());
        p.setProperty("producer.kafka.bootstrap.servers", kafkaBootstrap);
        p.setProperty("producer.link.secret", s.secret());
        p.setProperty("producer.link.restore.damping", "3s");
        if (!s.autosync()) {
            // both sites: after a role switch the other one is the primary whose resync waits for approval
            p.setProperty("producer.autosync", "false");
        }
        p.setProperty("producer.volumes", VOLUME);
        p.setProperty("producer.volume." + VOLUME + ".size", Long.toString(s.volumeSize()));
        p.setProperty("producer.volume." + VOLUME + ".role", role);
        return p;
    }
}
