package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.net.LinkProxy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Two in-JVM facilities on loopback with several volumes: site-a holds every volume PRIMARY, site-b
 * every SECONDARY copy. Each side reaches the other's link server through its own {@link LinkProxy}
 * ({@link #proxy} a → b, {@link #reverseProxy} b → a), so a test can cut the link at the TCP level;
 * {@link #cutByOperator()} cuts it through site-a's control API instead. The control API is read and
 * driven over HTTP with a timeout, so a facility that hangs fails a test instead of hanging it.
 *
 * <p>Not thread-safe; one test thread drives it.
 */
final class MultiVolumeSites implements AutoCloseable {
    static final String SECRET = "test-secret-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);

    final List<String> volumes;
    private final Path dir;
    private final long size;
    private final String kafka;
    private final Map<String, String> linkTimings;
    Facility siteA;
    Facility siteB;
    LinkProxy proxy;
    LinkProxy reverseProxy;

    /** {@code linkTimings}: producer.link.* keys (and any other) set on both facilities. */
    MultiVolumeSites(Path dir, List<String> volumes, long size, String kafkaBootstrap, Map<String, String> linkTimings) {
        this.dir = dir;
        this.volumes = List.copyOf(volumes);
        this.size = size;
        this.kafka = kafkaBootstrap;
        this.linkTimings = Map.copyOf(linkTimings);
    }

    MultiVolumeSites start() {
        int linkPortA = FreePorts.find();
        int linkPortB = FreePorts.find();
        proxy = new LinkProxy("127.0.0.1", linkPortB);
        reverseProxy = new LinkProxy("127.0.0.1", linkPortA);
        siteB = Facility.start(ProducerConfig.from(props("site-b", "SECONDARY", linkPortB, reverseProxy.port()), Map.of()));
        siteA = Facility.start(ProducerConfig.from(props("site-a", "PRIMARY", linkPortA, proxy.port()), Map.of()));
        return this;
    }

    private Properties props(String node, String role, int linkPort, int peerPort) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", node);
        p.setProperty("producer.state.dir", dir.resolve(node).toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:0");
        p.setProperty("producer.control.listen", "127.0.0.1:0");
        p.setProperty("producer.link.listen", "127.0.0.1:" + linkPort);
        p.setProperty("producer.link.peer", "127.0.0.1:" + peerPort);
        p.setProperty("producer.link.secret", SECRET);
        p.setProperty("producer.kafka.bootstrap.servers", kafka);
        p.setProperty("producer.topic.partitions", "3");
        p.setProperty("producer.volumes", String.join(",", volumes));
        for (String v : volumes) {
            p.setProperty("producer.volume." + v + ".size", Long.toString(size));
            p.setProperty("producer.volume." + v + ".region.size", "64K");
            p.setProperty("producer.volume." + v + ".role", role);
        }
        p.putAll(linkTimings);
        return p;
    }

    /** A continuous replayer for every volume; it reaches both facilities directly, not through the proxies. */
    Properties replayerProps(String id) {
        Properties p = ReplayerProperties.of(id, kafka, SECRET, volumes, ReplayerProperties.Node.of(siteA), ReplayerProperties.Node.of(siteB));
        p.setProperty("replayer.link.timeout", "10s");
        return p;
    }

    String primaryUri(String volume) {
        return "nbd://127.0.0.1:" + siteA.nbdPort() + "/" + volume;
    }

    Path primaryFile(String volume) {
        return dir.resolve("site-a/volumes/" + volume + "/data.img");
    }

    Path secondaryFile(String volume) {
        return dir.resolve("site-b/volumes/" + volume + "/data.img");
    }

    /** Resets every connection through both proxies and refuses new ones. */
    void cutTcp() {
        proxy.cut();
        reverseProxy.cut();
    }

    void restoreTcp() {
        proxy.restore();
        reverseProxy.restore();
    }

    /** {@code POST /v1/link/cut} on site-a. */
    void cutByOperator() throws IOException, InterruptedException {
        post(siteA, "/v1/link/cut");
    }

    /** {@code POST /v1/link/restore} on site-a. */
    void restoreByOperator() throws IOException, InterruptedException {
        post(siteA, "/v1/link/restore");
    }

    private static void post(Facility site, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + site.controlPort() + path))
                .timeout(HTTP_TIMEOUT).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("POST " + path + " on " + site.nodeId() + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }

    /** {@code GET /v1/status} of {@code site} as text, or why it did not answer. */
    static String statusText(Facility site) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + site.controlPort() + "/v1/status"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.body();
        } catch (IOException e) {
            return "<" + site.nodeId() + " status did not answer: " + e + ">";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "<interrupted>";
        }
    }

    /** site-a's status, parsed, or null while it does not answer. */
    JsonNode primaryStatus() {
        String text = statusText(siteA);
        if (text.startsWith("<")) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
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
