package io.blockrep.replayer;

import static io.blockrep.common.config.ConfigType.BOOLEAN;
import static io.blockrep.common.config.ConfigType.DURATION;
import static io.blockrep.common.config.ConfigType.HOST_PORT;
import static io.blockrep.common.config.ConfigType.LIST;
import static io.blockrep.common.config.ConfigType.PATH;
import static io.blockrep.common.config.ConfigType.SIZE;
import static io.blockrep.common.config.ConfigType.STRING;

import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.config.Validators;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration of a replayer ({@code blockrep replayer --config FILE}, and the ops verbs). {@link #DEF}
 * is the one table of keys; the README's reference is generated from it.
 */
public record ReplayerConfig(String id, String bootstrapServers, String topicPrefix, String groupId, Properties clientProperties,
                             String secret, long rateBytesPerSecond, long maxExtentBytes, long dataSetBytes, boolean skipIdentical,
                             Duration linkTimeout, List<VolumeTarget> volumes) {

    private static final String ID_REGEX = "[a-z0-9][a-z0-9-]{0,62}";
    public static final String KAFKA_CLIENT_PREFIX = "replayer.kafka.";

    public static final ConfigDef DEF = ConfigDef.builder()
            .required("replayer.id", STRING, Validators.pattern(ID_REGEX, "an id of a-z, 0-9, '-'"),
                    "Id of this replayer instance; it authenticates on the link with it.")
            .required("replayer.kafka.bootstrap.servers", STRING, Validators.pattern(".+", "host:port list"),
                    "Kafka bootstrap servers (the cluster the facilities publish to).")
            .define("replayer.topic.prefix", STRING, "blockrep.", Validators.pattern("[A-Za-z0-9._-]{0,200}", "a topic-name prefix"),
                    "Prefix of the topic names, as on the facilities.")
            .define("replayer.group.id", STRING, "blockrep-replayer", Validators.pattern("[A-Za-z0-9._-]{1,200}", "a group id"),
                    "Consumer group of the replayer service; its lag on the dirty topic is the backlog.")
            .required("replayer.link.secret", STRING, Validators.pattern(".{16,}", "at least 16 characters"),
                    "Shared link secret of the secondaries. Prefer BLOCKREP_REPLAYER_LINK_SECRET.")
            .define("replayer.link.timeout", DURATION, "30s", "Longest wait for a secondary to acknowledge a data set.")
            .define("replayer.rate", SIZE, "100M", Validators.range(0, Long.MAX_VALUE),
                    "Most bytes per second copied, over all volumes of this instance; 0 = unlimited.")
            .define("replayer.max.extent", SIZE, "1M", Validators.powerOfTwoSize(4096, 32L << 20),
                    "Largest run of adjacent dirty regions copied as one extent.")
            .define("replayer.dataset.bytes", SIZE, "32M", Validators.range(4096, 256L << 20),
                    "Bytes per data set (applied atomically on the secondary, then tombstoned).")
            .define("replayer.skip.identical", BOOLEAN, "false",
                    "Ask the secondary for region hashes first and skip regions that already match (saves bandwidth when much of the replica is current; costs a read and a hash on both sides).")
            .required("replayer.volumes", LIST, Validators.listOf(ID_REGEX, "volume ids", true),
                    "Volumes this replayer resynchronises.")
            .perIdFrom("replayer.volumes")
            .required("replayer.volume.<id>.node", STRING, Validators.pattern(ID_REGEX, "a node id"),
                    "Node id of the facility whose dirty regions are copied (the primary).")
            .required("replayer.volume.<id>.source", PATH, Validators.pattern(".+", "a path"),
                    "The primary's backing file or device, read for the current contents of dirty regions.")
            .required("replayer.volume.<id>.target", HOST_PORT, Validators.pattern(".+", "host:port"),
                    "Link address of the secondary facility that receives the data sets.")
            .required("replayer.volume.<id>.control", HOST_PORT, Validators.pattern(".+", "host:port"),
                    "Control API of the primary facility, told when eras are replayed.")
            .passThrough(KAFKA_CLIENT_PREFIX)
            .build();

    /** One volume to resynchronise: whose eras, read from where, written to where, reported to whom. */
    public record VolumeTarget(String volume, String node, Path source, HostPort target, HostPort control) {
    }

    public ReplayerConfig {
        volumes = List.copyOf(volumes);
    }

    public static ReplayerConfig load(Path file, Map<String, String> env) {
        return from(ConfigDef.readFile(file), env);
    }

    public static ReplayerConfig from(Properties props, Map<String, String> env) {
        Config c = DEF.parse(props, env, parsed -> List.of());
        List<VolumeTarget> volumes = new ArrayList<>();
        for (String id : c.ids()) {
            volumes.add(new VolumeTarget(id, c.getString("replayer.volume.<id>.node", id), c.getPath("replayer.volume.<id>.source", id),
                    (HostPort) c.get("replayer.volume." + id + ".target"), (HostPort) c.get("replayer.volume." + id + ".control")));
        }
        return new ReplayerConfig(c.getString("replayer.id"), c.getString("replayer.kafka.bootstrap.servers"),
                c.getString("replayer.topic.prefix"), c.getString("replayer.group.id"), c.passThrough(KAFKA_CLIENT_PREFIX),
                c.getString("replayer.link.secret"), c.getSize("replayer.rate"), c.getSize("replayer.max.extent"),
                c.getSize("replayer.dataset.bytes"), c.getBoolean("replayer.skip.identical"), c.getDuration("replayer.link.timeout"),
                volumes);
    }

    public VolumeTarget volume(String id) {
        return volumes.stream().filter(v -> v.volume().equals(id)).findFirst()
                .orElseThrow(() -> new io.blockrep.common.InvalidInputException("volume '" + id + "' is not in replayer.volumes"));
    }

    @Override
    public String toString() {
        return "ReplayerConfig[id=" + id + ", kafka=" + bootstrapServers + ", volumes=" + volumes + ", secret=***]";
    }
}
