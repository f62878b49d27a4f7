package io.blockrep.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.common.BlockrepException;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.index.ReplayerLag;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code blockrep lag}: the replayer group's lag on the dirty topic, per partition and per volume,
 * from the Kafka Admin API: the backlog of regions not yet replayed, for a cron job or a health
 * check on any host that reaches Kafka. Exit 0 when every lag is zero, 1 when some is not, 2 on an
 * error (broker unreachable, unknown group or topic, bad settings).
 */
@Command(name = "lag", mixinStandardHelpOptions = true,
        description = {"Show the replayer consumer group's lag on the dirty topic, per partition and volume (Kafka Admin API).",
            "Exit 0 when every lag is zero (nothing left to replay), 1 when some is not, 2 on an error."})
final class LagCommand implements Callable<Integer> {
    static final int LAGGING = 1;
    static final int ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (comma-separated); default: replayer.kafka.bootstrap.servers of --config.")
    String bootstrap;

    @Option(names = "--group", paramLabel = "G",
            description = "Consumer group of the replayer service (default: replayer.group.id of --config, else blockrep-replayer).")
    String group;

    @Option(names = "--topic-prefix", paramLabel = "P",
            description = "Topic prefix (default: replayer.topic.prefix of --config, else " + TopicLayout.DEFAULT_PREFIX + ").")
    String prefix;

    @Option(names = "--volume", paramLabel = "V", split = ",",
            description = "Volume(s) to show the lag of (default: replayer.volumes of --config).")
    List<String> volumes = new ArrayList<>();

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Replayer properties file: bootstrap servers, group, prefix, volumes and replayer.kafka.* client settings.")
    Path config;

    @Option(names = "--command-config", paramLabel = "FILE",
            description = "Kafka client properties (security.protocol, ssl.*, sasl.*), as kafka-consumer-groups.sh takes them.")
    Path commandConfig;

    @Option(names = "--timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "How long to wait for Kafka (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--json", description = "Print the lag as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ReplayerLag.Report report;
        List<String> mirrored = List.of();
        try {
            Properties client = new Properties();
            List<String> names = new ArrayList<>(volumes);
            String g = group;
            String p = prefix;
            if (config != null) {
                ReplayerConfig cfg = ReplayerConfig.load(config, System.getenv());
                client.putAll(cfg.kafkaClientProperties());
                g = g != null ? g : cfg.groupId();
                p = p != null ? p : cfg.topicPrefix();
                mirrored = io.blockrep.replayer.index.SourceTopics.of(new TopicLayout(p), cfg.mirror()).mirroredDirty();
                if (names.isEmpty()) {
                    cfg.volumes().forEach(v -> names.add(v.volume()));
                }
            }
            if (commandConfig != null) {
                client.putAll(ConfigDef.readFile(commandConfig));
            }
            if (bootstrap != null) {
                client.setProperty("bootstrap.servers", bootstrap);
            }
            if (client.getProperty("bootstrap.servers") == null) {
                throw new io.blockrep.common.InvalidInputException("give --bootstrap-server HOST:PORT (or --config with the replayer's settings)");
            }
            g = g != null ? g : "blockrep-replayer";
            p = p != null ? p : TopicLayout.DEFAULT_PREFIX;
            report = ReplayerLag.measure(client, g, new TopicLayout(p).dirty(), names,
                    io.blockrep.common.config.ConfigType.durationOf(timeout));
        } catch (BlockrepException e) {
            return error(Main.describe(e));
        } catch (org.apache.kafka.common.KafkaException e) {
            return error("cannot create the Kafka client: " + e.getMessage());
        }
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
        } else {
            print(out, report);
            if (!mirrored.isEmpty()) {
                // The group commits on the local topic only (docs/two-sites.md): a peer's backlog still in a mirror is not above.
                out.println("The replayer also reads the mirrored " + String.join(", ", mirrored) + " beside " + report.topic()
                        + "; a peer's records not yet mirrored are in no lag here (watch MirrorMaker's lag and the age of the mirrored "
                        + "heartbeats).");
            }
        }
        out.flush();
        return report.totalLag() == 0 ? 0 : LAGGING;
    }

    private int error(String message) {
        spec.commandLine().getErr().println("error: " + message);
        spec.commandLine().getErr().flush();
        return ERROR;
    }

    static void print(PrintWriter out, ReplayerLag.Report r) {
        out.printf("group %s on %s: %s, %d member(s), total lag %d%n%n", r.group(), r.topic(), r.state(), r.members(), r.totalLag());
        if (!r.volumes().isEmpty()) {
            out.printf("%-24s %9s %10s%n", "VOLUME", "PARTITION", "LAG");
            r.volumes().forEach(v -> out.printf("%-24s %9d %10d%n", v.volume(), v.partition(), v.lag()));
            out.println();
        }
        out.printf("%9s %12s %12s %10s  %s%n", "PARTITION", "COMMITTED", "END", "LAG", "VOLUMES");
        for (ReplayerLag.PartitionLag p : r.partitions()) {
            out.printf("%9d %12s %12d %10d  %s%n", p.partition(), p.committed() == null ? "-" : p.committed().toString(), p.end(),
                    p.lag(), p.volumes().isEmpty() ? "-" : String.join(",", p.volumes()));
        }
        out.println();
        out.println("LAG: records not yet replayed (end offset - committed offset; a partition without a committed offset counts whole). "
                + "A volume's lag is its partition's, shared with the other volumes mapped there.");
    }
}
