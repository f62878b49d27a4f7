package io.blockrep.cli;

import io.blockrep.cli.quickstart.QuickstartConfigs;
import io.blockrep.cli.quickstart.QuickstartConfigs.Clusters;
import io.blockrep.cli.quickstart.QuickstartConfigs.Endpoint;
import io.blockrep.cli.quickstart.QuickstartConfigs.Layout;
import io.blockrep.cli.quickstart.QuickstartConfigs.Settings;
import io.blockrep.common.FatalException;
import io.blockrep.common.Sizes;
import io.blockrep.common.config.ControlToken;
import io.blockrep.common.io.FileModes;
import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import io.blockrep.kafka.EmbeddedMirrorMaker;
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
import org.apache.kafka.common.utils.AppInfoParser;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code blockrep quickstart}: everything in one process on loopback — the embedded Kafka broker,
 * a primary facility (site-a) and a secondary facility (site-b) replicating a demo volume over the
 * link, and a replayer that resynchronises it after an outage — with instructions for real NBD
 * clients and for cutting and restoring the link. The configurations come from
 * {@link QuickstartConfigs}; {@code BLOCKREP_*} environment variables override them as they override
 * a service's config file. {@code --write-configs DIR} writes them as files and exits instead.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run embedded Kafka, two facilities (site-a primary, site-b secondary) and a replayer on loopback; stop with Ctrl-C.")
final class QuickstartCommand implements Callable<Integer> {
    static final int SITE_B_OFFSET = QuickstartConfigs.SITE_B_OFFSET;
    static final String REPLAYER_PROPERTIES = QuickstartConfigs.REPLAYER_FILE;
    /** The control API admin token both facilities require and the replayer and the verbs send; made once, 0600. */
    static final String CONTROL_TOKEN = "control.token";
    static final String REPLAYER_ID = QuickstartConfigs.REPLAYER_ID;

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

    @Option(names = "--autosync", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Resynchronise as soon as the link is back (default: on). --no-autosync sets producer.autosync=false:"
                    + " after a link outage the volume waits in AWAITING_APPROVAL until 'blockrep approve demo'.")
    boolean autosync;

    @Option(names = "--write-configs", paramLabel = "DIR",
            description = "Write the facility (site-a, site-b) and replayer config files the quickstart would run with into DIR,"
                    + " print the commands that start the same system as separate processes, and exit.")
    Path writeConfigs;

    @Option(names = "--two-clusters",
            description = "Two embedded Kafka clusters (site-a's on --kafka-port, site-b's and the replayer's on --kafka-port + "
                    + SITE_B_OFFSET + ") and MirrorMaker 2 in-process between them, configured from connect-config/mm2.properties;"
                    + " the replayer reads site-a's records as mirrored to site-b's cluster (site-a.blockrep.*).")
    boolean twoClusters;

    /** Where the {@code BLOCKREP_*} overrides come from; tests set it. */
    Map<String, String> environment = System.getenv();

    /** The link certificates of this run, or null with --no-link-tls; set by {@link #configs}. */
    private QuickstartLinkTls tls;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Path base = dir.toAbsolutePath();
        if (writeConfigs != null) {
            return writeConfigs(out, configs(base, twoClusters
                    ? Clusters.two("127.0.0.1:" + kafkaPort, "127.0.0.1:" + siteBKafkaPort())
                    : Clusters.one("127.0.0.1:" + kafkaPort)));
        }
        out.println("blockrep quickstart: starting embedded Kafka" + (twoClusters ? " (two clusters, MirrorMaker 2)" : "")
                + ", site-a (primary) and site-b (secondary) in " + base + " ...");
        out.flush();
        // The signal handle is closed last: once it is, a pending Ctrl-C lets the JVM exit.
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (EmbeddedKafka kafka = startKafka(base.resolve("kafka"), kafkaPort);
                 EmbeddedKafka kafkaB = twoClusters ? startKafka(base.resolve("kafka-site-b"), siteBKafkaPort()) : null) {
                QuickstartConfigs configs = configs(base, kafkaB == null ? Clusters.one(kafka.bootstrapServers())
                        : Clusters.two(kafka.bootstrapServers(), kafkaB.bootstrapServers()));
                ProducerConfig a = serviceConfig(configs.siteA());
                // the facilities create their topics, so MirrorMaker finds them at its start rather than a refresh later
                try (Facility siteB = Facility.start(serviceConfig(configs.siteB()));
                     Facility siteA = Facility.start(a);
                     EmbeddedMirrorMaker mm2 = kafkaB == null ? null : startMirrorMaker(out, configs);
                     ReplayerService replayer = ReplayerService.start(replayerConfig(replayerProperties(base, configs, siteA, siteB)))) {
                    printLinkTls(out, tls);
                    printBanner(out, configs.settings().kafka(), siteA, siteB, base.resolve(REPLAYER_PROPERTIES), configs.settings().tokenFile(),
                            a.resync().autosync(), replayer.metrics().url());
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

    private int siteBKafkaPort() {
        return kafkaPort == 0 ? 0 : kafkaPort + SITE_B_OFFSET;
    }

    private static EmbeddedKafka startKafka(Path dir, int port) {
        EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(dir).brokerPort(port).controllerPort(0).build());
        try {
            kafka.start();
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    private static EmbeddedMirrorMaker startMirrorMaker(PrintWriter out, QuickstartConfigs configs) throws InterruptedException {
        out.println("blockrep quickstart: starting MirrorMaker 2 (site-a <-> site-b) from connect-config/mm2.properties (packaged in the jar) ...");
        out.flush();
        return new EmbeddedMirrorMaker(configs.mirrorMaker()).start();
    }

    /** The quickstart's configurations for its options; makes the secret, token and certificates of {@code base} when missing. */
    QuickstartConfigs configs(Path base, Clusters kafka) {
        String secret = secret(base);
        Path token = controlToken(base);
        tls = linkTls(base);
        QuickstartConfigs.LinkTls keys = tls == null ? QuickstartConfigs.LinkTls.NONE : tls::properties;
        return new QuickstartConfigs(new Settings(base, kafka, nbdPort, controlPort, Sizes.parse(volumeSize), secret, token,
                keys, autosync));
    }

    /** A facility's settings with the {@code BLOCKREP_*} overrides, as {@code blockrep producer --config} applies them to its file. */
    ProducerConfig serviceConfig(Properties facility) {
        return ProducerConfig.from(facility, environment);
    }

    ReplayerConfig replayerConfig(Properties replayer) {
        return ReplayerConfig.from(replayer, environment);
    }

    /** The in-process replayer's configuration, reaching the facilities where they listen; also written for {@code blockrep replay}. */
    private static Properties replayerProperties(Path base, QuickstartConfigs configs, Facility siteA, Facility siteB) {
        Properties p = configs.replayer(List.of(siteA, siteB).stream()
                .map(f -> new Endpoint(f.nodeId(), "127.0.0.1", f.linkPort(), f.controlPort())).toList());
        writeReplayerProperties(base.resolve(REPLAYER_PROPERTIES), p);
        return p;
    }

    /** {@code --write-configs}: the files, and the commands that run them as separate processes. */
    private int writeConfigs(PrintWriter out, QuickstartConfigs configs) {
        List<Path> files = configs.write(writeConfigs.toAbsolutePath());
        Settings s = configs.settings();
        String all = String.join(" ", files.stream().map(Path::toString).toList());
        out.println("blockrep quickstart: wrote " + all);
        out.println("(owner-only: they hold the link secret; the state directories are under " + s.base() + ")");
        out.println();
        out.println("Start the same system as separate processes, each in its own terminal, in this order:");
        out.println("  bin/blockrep kafka --dir " + s.base().resolve("kafka") + " --port " + kafkaPort
                + (twoClusters ? "   # site-a's cluster" : ""));
        if (twoClusters) {
            out.println("  bin/blockrep kafka --dir " + s.base().resolve("kafka-site-b") + " --port " + siteBKafkaPort() + "   # site-b's cluster");
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.equals(QuickstartConfigs.MM2_FILE)) {
                out.println("  connect-mirror-maker.sh " + f + "   # from a Kafka " + AppInfoParser.getVersion() + " distribution");
            } else {
                out.println("  bin/blockrep " + (name.equals(QuickstartConfigs.REPLAYER_FILE) ? "replayer" : "producer") + " --config " + f);
            }
        }
        out.println("Check them first: bin/blockrep config check " + String.join(" ", files.stream()
                .filter(f -> !f.getFileName().toString().equals(QuickstartConfigs.MM2_FILE)).map(Path::toString).toList()));
        out.println("BLOCKREP_* variables override these files when each service starts, as they did the quickstart's settings.");
        out.println("The control APIs require the admin token in " + s.tokenFile()
                + " (export BLOCKREP_CONTROL_TOKEN=$(cat " + s.tokenFile() + ") for the verbs).");
        out.flush();
        return 0;
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
        QuickstartConfigs.writePrivate(file, p, "written by blockrep quickstart; use with: blockrep replay demo --config " + file);
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

    private void printBanner(PrintWriter out, Clusters kafka, Facility siteA, Facility siteB, Path replayerConfig, Path token,
                             boolean autosync, java.util.Optional<String> replayerMetrics) {
        String host = siteA.nbdHost();
        String uri = "nbd://" + host + ":" + siteA.nbdPort() + "/demo";
        String controls = host + ":" + siteA.controlPort() + "," + host + ":" + siteB.controlPort();
        out.println();
        if (kafka.layout() == Layout.TWO_CLUSTERS) {
            out.println("  Kafka cluster A (embedded KRaft, site-a's)               " + kafka.siteA());
            out.println("  Kafka cluster B (embedded KRaft, site-b's and replayer's) " + kafka.siteB());
            out.println("  MirrorMaker 2 (in-process, connect-config/mm2.properties) mirrors both ways: site-a's topics are on B");
            out.println("  as site-a.blockrep.dirty/.events/.status (the replayer reads these), site-b's on A as site-b.blockrep.*");
        } else {
            out.println("  Kafka (embedded KRaft)  " + kafka.siteA());
        }
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
        if (autosync) {
            out.println("  bin/blockrep link restore --control " + host + ":" + siteA.controlPort()
                    + "   # RESYNCING, then REPLICATING: the replica converges");
        } else {
            out.println("  bin/blockrep link restore --control " + host + ":" + siteA.controlPort()
                    + "   # producer.autosync=false: AWAITING_APPROVAL");
            out.println("  bin/blockrep approve demo --control " + host + ":" + siteA.controlPort()
                    + "   # RESYNCING, then REPLICATING: the replica converges");
        }
        out.println("  (a link cut lasts until the facility restarts: stopping the quickstart restores the link)");
        out.println("  bin/blockrep replay demo --config " + replayerConfig + "   # or replay now, with a progress bar");
        out.println();
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }
}
