package io.blockrep.producer.replication;

import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.net.LinkProxy;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Two facilities on loopback for replication tests: site-b holds the SECONDARY copy, site-a the
 * PRIMARY (at creation; roles may move). Each connects to the other's link server through its own
 * {@link LinkProxy} ({@link #proxy}: site-a → site-b, {@link #reverseProxy}: site-b → site-a), which
 * the test can cut or blackhole; {@link #cutLink()} cuts both. Short timeouts so failures are
 * detected in tens of milliseconds. {@link #withNodeIds} swaps the node ids, so the same scenario
 * runs with site-b as the primary. The fields {@code siteA}/{@code siteB} are the facility created
 * PRIMARY and the one created SECONDARY, whatever their node ids.
 */
public final class TwoSites implements AutoCloseable {
    public static final String SECRET = "test-secret-0123456789";
    final Path dir;
    final String volume;
    final long size;
    final String kafka;
    public Facility siteB;
    public LinkProxy proxy;
    public LinkProxy reverseProxy;
    public Facility siteA;
    private int linkPortA;
    private int linkPortB;
    private final Properties extraA = new Properties();
    private final Properties extraB = new Properties();
    private String primaryNode = "site-a";
    private String secondaryNode = "site-b";

    public TwoSites(Path dir, String volume, long size, String kafkaBootstrap) {
        this.dir = dir;
        this.volume = volume;
        this.size = size;
        this.kafka = kafkaBootstrap;
    }

    /** An extra configuration property for site-a (the primary), set before {@link #start()}. */
    public TwoSites withPrimaryProperty(String key, String value) {
        extraA.setProperty(key, value);
        return this;
    }

    /** An extra configuration property for site-b (the secondary), set before {@link #start()}. */
    public TwoSites withSecondaryProperty(String key, String value) {
        extraB.setProperty(key, value);
        return this;
    }

    /** Node ids of the primary and the secondary facility (default site-a and site-b), set before {@link #start()}. */
    public TwoSites withNodeIds(String primary, String secondary) {
        this.primaryNode = primary;
        this.secondaryNode = secondary;
        return this;
    }

    public TwoSites start() {
        linkPortA = FreePorts.find();
        linkPortB = FreePorts.find();
        proxy = new LinkProxy("127.0.0.1", linkPortB);
        reverseProxy = new LinkProxy("127.0.0.1", linkPortA);
        startB();
        startA();
        return this;
    }

    public void startA() {
        Properties a = props(primaryNode, "PRIMARY", "127.0.0.1:" + proxy.port());
        a.setProperty("producer.link.listen", "127.0.0.1:" + linkPortA);
        a.putAll(extraA);
        siteA = Facility.start(ProducerConfig.from(a, Map.of()));
    }

    public void startB() {
        Properties b = props(secondaryNode, "SECONDARY", "127.0.0.1:" + reverseProxy.port());
        b.setProperty("producer.link.listen", "127.0.0.1:" + linkPortB);
        b.putAll(extraB);
        siteB = Facility.start(ProducerConfig.from(b, Map.of()));
    }

    public void stopB() {
        siteB.close();
        siteB = null;
    }

    /** Cuts the link in both directions. */
    public void cutLink() {
        proxy.cut();
        reverseProxy.cut();
    }

    /** Restores both directions. */
    public void restoreLink() {
        proxy.restore();
        reverseProxy.restore();
    }

    public void stopA() {
        siteA.close();
        siteA = null;
    }

    Properties props(String node, String role, String peer) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", node);
        p.setProperty("producer.state.dir", dir.resolve(node).toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:0");
        p.setProperty("producer.control.listen", "127.0.0.1:0");
        p.setProperty("producer.link.listen", "127.0.0.1:0");
        p.setProperty("producer.link.secret", SECRET);
        p.setProperty("producer.link.ack.timeout", "1s");
        p.setProperty("producer.link.heartbeat.interval", "100ms");
        p.setProperty("producer.link.missed.heartbeats", "5");
        p.setProperty("producer.link.connect.timeout", "1s");
        p.setProperty("producer.link.backoff.max", "500ms");
        p.setProperty("producer.link.restore.damping", "300ms");
        if (peer != null) {
            p.setProperty("producer.link.peer", peer);
        }
        if (kafka != null) {
            p.setProperty("producer.kafka.bootstrap.servers", kafka);
            p.setProperty("producer.topic.partitions", "3");
        }
        p.setProperty("producer.volumes", volume);
        p.setProperty("producer.volume." + volume + ".size", Long.toString(size));
        p.setProperty("producer.volume." + volume + ".region.size", "64K");
        p.setProperty("producer.volume." + volume + ".role", role);
        return p;
    }

    public Path primaryFile() {
        return dir.resolve(primaryNode + "/volumes/" + volume + "/data.img");
    }

    public Path secondaryFile() {
        return dir.resolve(secondaryNode + "/volumes/" + volume + "/data.img");
    }

    public String primaryUri() {
        return "nbd://127.0.0.1:" + siteA.nbdPort() + "/" + volume;
    }

    public ReplicatedVolume primary() {
        return siteA.primary(volume).orElseThrow();
    }

    /** The volume at site-a, whatever its role now. */
    public ReplicatedVolume atA() {
        return siteA.volume(volume).orElseThrow();
    }

    /** The volume at site-b, whatever its role now. */
    public ReplicatedVolume atB() {
        return siteB.volume(volume).orElseThrow();
    }

    public String siteBUri() {
        return "nbd://127.0.0.1:" + siteB.nbdPort() + "/" + volume;
    }

    @Override
    public void close() {
        if (siteA != null) {
            siteA.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (reverseProxy != null) {
            reverseProxy.close();
        }
        if (siteB != null) {
            siteB.close();
        }
    }
}
