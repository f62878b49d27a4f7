package io.blockrep.cli;

import io.blockrep.common.FatalException;
import io.blockrep.common.Sizes;
import io.blockrep.common.config.ControlToken;
import io.blockrep.common.io.FileModes;
import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code blockrep quickstart}: everything in one process on loopback — the embedded Kafka broker,
 * a primary facility (site-a) and a secondary facility (site-b) replicating a demo volume over the
 * link, and a replayer that resynchronises it after an outage — with instructions for real NBD
 * clients and for cutting and restoring the link.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run embedded Kafka, two facilities (site-a primary, site-b secondary) and a replayer on loopback; stop with Ctrl-C.")
final class QuickstartCommand implements Callable<Integer> {
    static final int SITE_B_OFFSET = 10;
    static final String REPLAYER_PROPERTIES = "replayer.properties";
    /** The control API admin token both facilities require and the replayer and the verbs send; made once, 0600. */
    static final String CONTROL_TOKEN = "control.token";
    static final String REPLAYER_ID = "quickstart-replayer";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", defaultValue = "run/quickstart", paramLabel = "DIR",
            description = "Where the broker and the facilities keep their data (default: ${DEFAULT-VALUE}); kept between runs.")
    Path dir;

    @Option(names = "--kafka-port", defaultValue = "19092", paramLabel = "PORT", description = "Kafka broker port (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--nbd-port", defaultValue = "10809", paramLabel = "PORT",
            description = "site-a's NBD port (default: ${DEFAULT-VALUE}); site-b's is this + " + SITE_B_OFFSET + ".")
    int nbdPort;

    @Option(names = "--control-port", defaultValue = "10811", paramLabel = "PORT",
            description = "site-a's control API port (default: ${DEFAULT-VALUE}); site-b's is this + " + SITE_B_OFFSET
                    + "; site-a's link port is this - 1, site-b's this + " + (SITE_B_OFFSET - 1) + ".")
    int controlPort;

    @Option(names = "--volume-size", defaultValue = "1G", paramLabel = "SIZE", description = "Size of the demo volume (default: ${DEFAULT-VALUE}).")
    String volumeSize;

    @Option(names = "--link-tls", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Mutual TLS on the replication link, with certificates made in DIR/tls on the first run (default: on; --no-link-tls for plaintext).")
    boolean linkTls;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Path base = dir.toAbsolutePath();
        long size = Sizes.parse(volumeSize);
        String secret = secret(base);
        Path token = controlToken(base);
        QuickstartLinkTls tls = linkTls(base);
        int linkPort = controlPort + SITE_B_OFFSET - 1;
        out.println("blockrep quickstart: starting embedded Kafka, site-a (primary) and site-b (secondary) in " + base + " ...");
        out.flush();
        // The signal handle is closed last: once it is, a pending Ctrl-C lets the JVM exit.
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(base.resolve("kafka"))
                    .brokerPort(kafkaPort).controllerPort(0).build())) {
                kafka.start();
                // Each site listens and connects to the other: roles can move (blockrep promote / demote).
                Properties b = site(base, "site-b", "SECONDARY", nbdPort + SITE_B_OFFSET, controlPort + SITE_B_OFFSET, size, secret);
                b.setProperty("producer.control.token.file", token.toString());
                b.setProperty("producer.link.listen", "127.0.0.1:" + linkPort);
                b.setProperty("producer.link.peer", "127.0.0.1:" + (controlPort - 1));
                b.setProperty("producer.link.peer.id", "site-a");
                Properties a = site(base, "site-a", "PRIMARY", nbdPort, controlPort, size, secret);
                a.setProperty("producer.control.token.file", token.toString());
                // site-a's link server answers the replayer's reads, and takes site-b's writes after a role switch.
                a.setProperty("producer.link.listen", "127.0.0.1:" + (controlPort - 1));
                a.setProperty("producer.link.peer", "127.0.0.1:" + linkPort);
                a.setProperty("producer.link.peer.id", "site-b");
                a.setProperty("producer.kafka.bootstrap.servers", kafka.bootstrapServers());
                b.setProperty("producer.kafka.bootstrap.servers", kafka.bootstrapServers());
                a.putAll(linkTlsProperties(tls, "site-a", "producer.link.tls."));
                b.putAll(linkTlsProperties(tls, "site-b", "producer.link.tls."));
                try (Facility siteB = Facility.start(ProducerConfig.from(b, Map.of()));
                     Facility siteA = Facility.start(ProducerConfig.from(a, Map.of()));
                     ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(
                             replayerProperties(base, kafka, siteA, siteB, secret, token,
                                     linkTlsProperties(tls, REPLAYER_ID, "replayer.link.tls.")), Map.of()))) {
                    printLinkTls(out, tls);
                    printBanner(out, kafka, siteA, siteB, base.resolve(REPLAYER_PROPERTIES), token, replayer.metrics().url());
                    signal.await();
                    out.println("stopping ...");
                    out.flush();
                }
            }
            out.println("stopped cleanly; data kept in " + base);
            out.flush();
        }
        return 0;
    }

    private static Properties site(Path base, String node, String role, int nbd, int control, long size, String secret) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", node);
        p.setProperty("producer.state.dir", base.resolve(node).toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:" + nbd);
        p.setProperty("producer.control.listen", "127.0.0.1:" + control);
        p.setProperty("producer.metrics.listen", "127.0.0.1:0");
        p.setProperty("producer.link.secret", secret);
        p.setProperty("producer.link.restore.damping", "3s");
        p.setProperty("producer.volumes", "demo");
        p.setProperty("producer.volume.demo.size", Long.toString(size));
        p.setProperty("producer.volume.demo.role", role);
        return p;
    }

    /** The in-process replayer's configuration, also written to the quickstart directory for {@code blockrep replay}. */
    private static Properties replayerProperties(Path base, EmbeddedKafka kafka, Facility siteA, Facility siteB, String secret,
                                                 Path token, Properties linkTls) {
        Properties p = new Properties();
        p.setProperty("replayer.control.token.file", token.toString());
        p.setProperty("replayer.id", REPLAYER_ID);
        p.putAll(linkTls);
        p.setProperty("replayer.kafka.bootstrap.servers", kafka.bootstrapServers());
        p.setProperty("replayer.link.secret", secret);
        p.setProperty("replayer.nodes", "site-a,site-b");
        for (Facility site : List.of(siteA, siteB)) {
            String node = site.nodeId();
            p.setProperty("replayer.node." + node + ".link", "127.0.0.1:" + site.linkPort());
            p.setProperty("replayer.node." + node + ".control", "127.0.0.1:" + site.controlPort());
        }
        p.setProperty("replayer.metrics.listen", "127.0.0.1:0"); // served by the in-process service only, never by the ops verbs
        p.setProperty("replayer.volumes", "demo");
        p.setProperty("replayer.volume.demo.nodes", "site-a,site-b");
        writeReplayerProperties(base.resolve(REPLAYER_PROPERTIES), p);
        return p;
    }

    /** The link certificates (made on the first run), or null with --no-link-tls. */
    private QuickstartLinkTls linkTls(Path base) {
        if (!linkTls) {
            return null;
        }
        spec.commandLine().getOut().println("blockrep quickstart: link TLS certificates in " + base.resolve(QuickstartLinkTls.DIR)
                + " (made with keytool on the first run) ...");
        spec.commandLine().getOut().flush();
        return QuickstartLinkTls.makeOrReuse(base);
    }

    private static Properties linkTlsProperties(QuickstartLinkTls tls, String node, String prefix) {
        return tls == null ? new Properties() : tls.properties(node, prefix);
    }

    private static void printLinkTls(PrintWriter out, QuickstartLinkTls tls) {
        if (tls == null) {
            out.println("Link TLS is off (--no-link-tls): the link is authenticated by the shared secret only, in plaintext.");
        } else {
            Path d = tls.dir();
            out.println("Link TLS (mutual, under the shared secret): CA " + d.resolve("ca.p12") + ", truststore " + d.resolve("truststore.p12"));
            out.println("  keystores " + String.join(", ", QuickstartLinkTls.NODES.stream().map(n -> d.resolve(n + ".p12").toString()).toList())
                    + "; their password is in " + d.resolve("password"));
        }
        out.flush();
    }

    /** Writes the replayer's properties, which hold the link secret: 0600, whatever the umask. */
    static void writeReplayerProperties(Path file, Properties p) {
        try {
            java.io.StringWriter w = new java.io.StringWriter();
            p.store(w, "written by blockrep quickstart; use with: blockrep replay demo --config " + file);
            FileModes.writePrivateString(file, w.toString());
        } catch (IOException e) {
            throw new FatalException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A random link secret, made once per quickstart directory and kept there, 0600 in a 0700
     * directory (an older run's looser modes are tightened).
     */
    static String secret(Path base) {
        Path file = base.resolve("link.secret");
        try {
            FileModes.createPrivateDirectories(base);
            FileModes.restrict(base);
            if (Files.exists(file)) {
                FileModes.restrict(file);
                return Files.readString(file).trim();
            }
            byte[] bytes = new byte[24];
            new SecureRandom().nextBytes(bytes);
            String secret = HexFormat.of().formatHex(bytes);
            FileModes.writePrivateString(file, secret + "\n");
            return secret;
        } catch (IOException e) {
            throw new FatalException("cannot keep the link secret in " + file + ": " + e.getMessage(), e);
        }
    }

    /** The control API token file of this quickstart directory: kept between runs, made (random, 0600) when missing. */
    private static Path controlToken(Path base) {
        Path file = base.resolve(CONTROL_TOKEN);
        try {
            if (!Files.exists(file)) {
                ControlToken.create(file);
            }
            return file;
        } catch (IOException e) {
            throw new FatalException("cannot make the control API token " + file + ": " + e.getMessage(), e);
        }
    }

    private void printBanner(PrintWriter out, EmbeddedKafka kafka, Facility siteA, Facility siteB, Path replayerConfig, Path token,
                             java.util.Optional<String> replayerMetrics) {
        String host = siteA.nbdHost();
        String uri = "nbd://" + host + ":" + siteA.nbdPort() + "/demo";
        String controls = host + ":" + siteA.controlPort() + "," + host + ":" + siteB.controlPort();
        out.println();
        out.println("  Kafka (embedded KRaft)  " + kafka.bootstrapServers());
        ProducerCommand.printServing(out, siteA);
        ProducerCommand.printServing(out, siteB);
        out.println("  site-a replicates demo to site-b over the link on " + host + ":" + siteB.linkPort());
        out.println("  a replayer resyncs demo after link outages (its configuration: " + replayerConfig + ")");
        replayerMetrics.ifPresent(url -> out.println("  replayer metrics (Prometheus)  " + url));
        out.println("  the control APIs require the admin token in " + token + " (the verbs below send it from");
        out.println("  BLOCKREP_CONTROL_TOKEN, or give --token-file " + token + ")");
        out.println();
        out.println("Write to the primary from another terminal (the replica on site-b follows):");
        out.println("  nbdinfo --list nbd://" + host + ":" + siteA.nbdPort());
        out.println("  qemu-io -f raw " + uri + " -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M'");
        out.println("  head -c 64M /dev/urandom > /tmp/data.bin && nbdcopy /tmp/data.bin " + uri);
        out.println("  nbd-client " + host + " " + siteA.nbdPort() + " /dev/nbd0 -N demo   # kernel client, where /dev/nbd* exists");
        out.println();
        out.println("Watch, cut and restore the link (writes go on in LOGGING mode while it is cut):");
        out.println("  export BLOCKREP_CONTROL_TOKEN=$(cat " + token + ")");
        out.println("  bin/blockrep status --control " + controls);
        out.println("  bin/blockrep link cut --control " + host + ":" + siteA.controlPort());
        out.println("  qemu-io -f raw " + uri + " -c 'write -P 0xcd 8M 4M'      # logged: regions become dirty");
        out.println("  bin/blockrep link restore --control " + host + ":" + siteA.controlPort()
                + "   # RESYNCING, then REPLICATING: the replica converges");
        out.println("  bin/blockrep replay demo --config " + replayerConfig + "   # or replay now, with a progress bar");
        out.println();
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }
}
