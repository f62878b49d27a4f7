package io.blockrep.replayer;

import static io.blockrep.common.config.ConfigType.BOOLEAN;
import static io.blockrep.common.config.ConfigType.DURATION;
import static io.blockrep.common.config.ConfigType.HOST_PORT;
import static io.blockrep.common.config.ConfigType.INT;
import static io.blockrep.common.config.ConfigType.LIST;
import static io.blockrep.common.config.ConfigType.PATH;
import static io.blockrep.common.config.ConfigType.SIZE;
import static io.blockrep.common.config.ConfigType.STRING;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigKey;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.ControlTls;
import io.blockrep.common.config.ControlToken;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.config.Validators;
import io.blockrep.schemas.client.KafkaClientCheck;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.metrics.MetricsListen;
import io.blockrep.schemas.registry.RegistrySetup;
import io.blockrep.schemas.registry.SchemaRegistryConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration of a replayer ({@code blockrep replayer --config FILE}, and the ops verbs). {@link #DEF}
 * is the one table of keys; the README's reference is generated from it.
 */
public record ReplayerConfig(String id, String bootstrapServers, String topicPrefix, String groupId, Properties clientProperties,
                             String secret, long rateBytesPerSecond, long maxExtentBytes, long dataSetBytes, boolean skipIdentical,
                             Duration linkTimeout, Map<String, Node> nodes, List<VolumeNodes> volumes, LinkTls.Settings linkTls,
                             Duration verifyInterval, long verifyRateBytesPerSecond, Mirror mirror, HostPort metricsListen,
                             StatusAppSettings statusApp, RegistrySetup registry, Copying copy) {

    private static final String ID_REGEX = "[a-z0-9][a-z0-9-]{0,62}";
    public static final String KAFKA_CLIENT_PREFIX = "replayer.kafka.";
    public static final String REGISTRY_PREFIX = "replayer.schema.registry.";
    private static final ConfigKey.Validator TWO_NODES = twoNodes();

    public static final ConfigDef DEF = SchemaRegistryConfig.define(ConfigDef.builder()
            .required("replayer.id", STRING, Validators.pattern(ID_REGEX, "an id of a-z, 0-9, '-'"),
                    "Id of this replayer instance; it authenticates on the link with it.")
            .required("replayer.kafka.bootstrap.servers", STRING, Validators.pattern(".+", "host:port list"),
                    "Kafka bootstrap servers (the cluster the facilities publish to).")
            .define("replayer.topic.prefix", STRING, "blockrep.", Validators.pattern("[A-Za-z0-9._-]{0,200}", "a topic-name prefix"),
                    "Prefix of the topic names, as on the facilities.")
            .define("replayer.group.id", STRING, "blockrep-replayer", Validators.pattern("[A-Za-z0-9._-]{1,200}", "a group id"),
                    "Consumer group of the replayer service; its lag on the dirty topic is the backlog.")
            .required("replayer.link.secret", STRING, Validators.pattern(".{16,}", "at least 16 characters"),
                    "Shared link secret of the facilities. Prefer BLOCKREP_REPLAYER_LINK_SECRET.")
            .define("replayer.link.timeout", DURATION, "30s",
                    "Longest wait for a facility to answer over the link: a data set applied, a read, a hash.")
            .define("replayer.link.tls.enabled", BOOLEAN, "false",
                    "Mutual TLS to the facilities' link ports (needed when they set producer.link.tls.enabled); the HMAC challenge still runs inside it.")
            .define("replayer.link.tls.keystore", PATH, null, "PKCS12 (or replayer.link.tls.keystore.type) keystore with this replayer's certificate and key.")
            .define("replayer.link.tls.keystore.password", STRING, null,
                    "Password of the keystore and its key. Prefer BLOCKREP_REPLAYER_LINK_TLS_KEYSTORE_PASSWORD.")
            .define("replayer.link.tls.keystore.type", STRING, "PKCS12", "Type of the keystore.")
            .define("replayer.link.tls.truststore", PATH, null,
                    "Keystore of the CA certificates a facility's certificate must chain to; optional when replayer.link.tls.peer.fingerprints pins them.")
            .define("replayer.link.tls.truststore.password", STRING, null, "Password of the truststore.")
            .define("replayer.link.tls.truststore.type", STRING, "PKCS12", "Type of the truststore.")
            .define("replayer.link.tls.hostname.verification", BOOLEAN, "true",
                    "A facility's certificate must name the host of its replayer.node.<id>.link (DNS or IP SAN). Not used when fingerprints are pinned.")
            .define("replayer.link.tls.peer.fingerprints", LIST, "", Validators.listOf(LinkTls.FINGERPRINT_REGEX, "SHA-256 fingerprints", false),
                    "SHA-256 fingerprints (hex, colons allowed) of the only facility certificates accepted; empty = any the truststore validates.")
            .define("replayer.link.tls.check.node.id", BOOLEAN, "false",
                    "A facility's certificate must name (CN or DNS SAN) the node id it authenticates with (its producer.node.id).")
            .define("replayer.metrics.listen", STRING, null, MetricsListen.VALIDATOR,
                    "Address of the service's Prometheus endpoint (GET /metrics, no token; a listener of its own): HOST:PORT, or PORT on 127.0.0.1; port 0 picks a free one. Unset = no endpoint. Only blockrep replayer serves it; the ops verbs (replay, verify) reading the same file never do.")
            .define("replayer.rate", SIZE, "100M", Validators.range(0, Long.MAX_VALUE),
                    "Most bytes per second copied, over all volumes of this instance; 0 = unlimited.")
            .define("replayer.copy.concurrency", INT, "4", Validators.range(1, 64),
                    "Volumes the service copies at once (worker threads, each with its own copier: about 3 × replayer.dataset.bytes of heap each). Copies go in slices of replayer.copy.slice, and a worker takes the ready volume served longest ago, so a small resync is never queued behind a large one; replayer.rate is shared by all of them.")
            .define("replayer.copy.slice", SIZE, "64M", Validators.range(1L << 20, 1L << 40),
                    "Most bytes one volume copies before its worker takes the next ready volume (the round-robin's turn); the replay report follows the last slice. Smaller = fairer, larger = fewer pipeline drains.")
            .define("replayer.max.extent", SIZE, "1M", Validators.powerOfTwoSize(4096, 32L << 20),
                    "Largest run of adjacent dirty regions copied as one extent.")
            .define("replayer.dataset.bytes", SIZE, "32M", Validators.range(4096, 256L << 20),
                    "Bytes per data set (applied atomically on the target, then tombstoned). The replayer keeps three set buffers: about 3x this of heap.")
            .define("replayer.skip.identical", BOOLEAN, "false",
                    "Ask the target for region hashes first and skip regions that already match (saves bandwidth when much of the replica is current; costs a hash on both sides).")
            .define("replayer.verify.interval", DURATION, "24h",
                    "How often the service verifies each volume it owns (region hashes on both sides, only digests cross the wire; differing regions are marked dirty, cause VERIFY_MISMATCH, and resynced); 0s = never. On by default, daily: a replica that diverged behind blockrep's back (a damaged disk, a lost dirty bit, a write made to the secondary directly) is otherwise invisible until someone runs blockrep verify, and replayer.verify.rate bounds the cost. The first verify is one interval after the volume is owned, or after the facility's last recorded verify. Runs only while the volume is REPLICATING and yields to a resync.")
            .define("replayer.verify.rate", SIZE, "50M", Validators.range(0, Long.MAX_VALUE),
                    "Most bytes per second hashed by scheduled verifies (on each side), over all volumes of this instance, apart from replayer.rate; 0 = unlimited. At 50M a 1 TiB volume takes about 6 h.")
            .define("replayer.status.app.enabled", BOOLEAN, "true",
                    "Run the status app inside the service: a Kafka Streams application (id <prefix>status-app) that folds the dirty and events topics into the compacted <prefix>status table, read by blockrep status --bootstrap-server. A failure to start it is logged and never stops the replayer.")
            .define("replayer.status.listen", HOST_PORT, "127.0.0.1:10815",
                    "Listener of the status app's interactive query (GET /v1/status, GET /v1/status/{volume}); port 0 = any free port.")
            .define("replayer.status.state.dir", PATH, null,
                    "Kafka Streams state directory of the status app; unset = status-app-state/<replayer.id> in the working directory.")
            .define("replayer.control.token.file", PATH, null,
                    "File holding the token sent to the facilities' control APIs (their producer.control.token.file, the admin token: the replayer reports replayed eras); unset = none sent.")
            .define("replayer.control.tls.enabled", BOOLEAN, "false",
                    "Reach the facilities' control APIs over HTTPS (their producer.control.tls.enabled), presenting the client certificate of replayer.control.tls.keystore.path; the server's certificate must chain to the trust store and name the host of replayer.node.<id>.control.")
            .define("replayer.control.tls.keystore.path", PATH, null,
                    "Key store with the replayer's client certificate and private key; required with replayer.control.tls.enabled.")
            .define("replayer.control.tls.keystore.password", STRING, null,
                    "Password of the key store (and of its key). Prefer BLOCKREP_REPLAYER_CONTROL_TLS_KEYSTORE_PASSWORD.")
            .define("replayer.control.tls.keystore.type", STRING, "PKCS12", Validators.oneOf(ControlTls.TYPES.toArray(String[]::new)),
                    "PKCS12, JKS, or PEM (one file: an unencrypted PKCS#8 private key and its certificate chain).")
            .define("replayer.control.tls.truststore.path", PATH, null,
                    "Trust store with the CA certificates that the facilities' certificates must chain to; unset = the JDK's default trust store.")
            .define("replayer.control.tls.truststore.password", STRING, null,
                    "Password of the trust store; unset = read without integrity check.")
            .define("replayer.control.tls.truststore.type", STRING, "PKCS12", Validators.oneOf(ControlTls.TYPES.toArray(String[]::new)),
                    "PKCS12, JKS, or PEM (a file of CA certificates).")
            .define("replayer.mirror.policy", STRING, "none", Validators.pattern("none|default|identity", "none, default or identity"),
                    "How MirrorMaker 2 names the peer site's topics on this replayer's cluster (docs/two-sites.md): none = both sites publish to this one cluster; default = the peer's dirty topic is <alias><separator><prefix>dirty (DefaultReplicationPolicy), read beside the local one; identity = the peer's records are in the local topic itself (IdentityReplicationPolicy).")
            .define("replayer.mirror.peer.aliases", LIST, "", Validators.listOf(ID_REGEX, "MirrorMaker cluster aliases", false),
                    "MirrorMaker aliases of the peer clusters whose mirrored topics are read (site-a); required with replayer.mirror.policy=default, not allowed with none.")
            .define("replayer.mirror.separator", STRING, ".", Validators.pattern("[A-Za-z0-9._-]{1,20}", "a topic-name separator"),
                    "MirrorMaker's replication.policy.separator (used with replayer.mirror.policy=default).")
            .define("replayer.mirror.catchup.timeout", DURATION, "5m",
                    "How long a resync or resolve waits for a peer's records (an era-closed marker the facility reports closed) to arrive through the mirror before it fails, retriably, with the mirror's lag as the reason.")
            .required("replayer.nodes", LIST, Validators.listOf(ID_REGEX, "node ids", true),
                    "Node ids of the facilities this replayer copies between (their producer.node.id).")
            .perIdFrom("replayer.nodes")
            .required("replayer.node.<id>.link", HOST_PORT, Validators.pattern(".+", "host:port"),
                    "Link address of the facility (its producer.link.listen): sources are read and replicas written through it.")
            .required("replayer.node.<id>.control", HOST_PORT, Validators.pattern(".+", "host:port"),
                    "Control API of the facility (its producer.control.listen), told when its eras are replayed.")
            .define("replayer.node.<id>.control.token.file", PATH, null,
                    "Token file for this facility's control API, when it differs from replayer.control.token.file.")
            .required("replayer.volumes", LIST, Validators.listOf(ID_REGEX, "volume ids", true),
                    "Volumes this replayer resynchronises.")
            .perIdFrom("replayer.volumes")
            .required("replayer.volume.<id>.nodes", LIST, TWO_NODES,
                    "The two nodes holding the volume, from replayer.nodes; whichever has closed eras ready is the source, the other the target.")
            .define("replayer.volume.<id>.rate", SIZE, "0", Validators.range(0, Long.MAX_VALUE),
                    "Most bytes per second copied for this volume (averaged over its slices, bursts of one second's worth), within the shared replayer.rate; 0 = only the shared limit.")
            .passThrough(KAFKA_CLIENT_PREFIX, KafkaClientCheck.CLIENTS), REGISTRY_PREFIX)
            .build();

    /**
     * A facility: its node id, its link address (read from as a source, written to as a target), its
     * control API and the file of the token sent there (null = none).
     */
    public record Node(String id, HostPort link, HostPort control, Path controlTokenFile, ControlTls controlTls) {
        public Node(String id, HostPort link, HostPort control) {
            this(id, link, control, null);
        }

        public Node(String id, HostPort link, HostPort control, Path controlTokenFile) {
            this(id, link, control, controlTokenFile, null);
        }
    }

    /**
     * A volume and the two nodes that hold it. Neither is fixed as source or target: each replay step
     * copies from the node whose closed eras are ready to the other.
     */
    public record VolumeNodes(String volume, List<String> nodes) {
        public VolumeNodes {
            nodes = List.copyOf(nodes);
            if (nodes.size() != 2 || nodes.get(0).equals(nodes.get(1))) {
                throw new IllegalArgumentException("volume '" + volume + "' needs two different nodes, not " + nodes);
            }
        }

        /** The node of the pair that is not {@code node}. */
        public String other(String node) {
            if (!nodes.contains(node)) {
                throw new IllegalArgumentException("'" + node + "' is not a node of volume '" + volume + "' " + nodes);
            }
            return nodes.get(0).equals(node) ? nodes.get(1) : nodes.get(0);
        }
    }

    /**
     * How the peer site's records reach this replayer's cluster (replayer.mirror.*); {@link #NONE} for one
     * cluster shared by both sites. The topics it implies: {@link io.blockrep.replayer.index.SourceTopics}.
     */
    public record Mirror(String policy, List<String> peerAliases, String separator, Duration catchupTimeout) {
        public static final Mirror NONE = new Mirror("none", List.of(), ".", Duration.ofMinutes(5));

        public Mirror {
            peerAliases = List.copyOf(peerAliases);
        }
    }

    /** The status app run inside the service: on or off, its query listener and its Streams state directory. */
    public record StatusAppSettings(boolean enabled, HostPort listen, Path stateDir) {
    }

    public ReplayerConfig {
        mirror = mirror == null ? Mirror.NONE : mirror;
        nodes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(nodes));
        volumes = List.copyOf(volumes);
    }

    /** Exactly two different node ids. */
    private static ConfigKey.Validator twoNodes() {
        ConfigKey.Validator ids = Validators.listOf(ID_REGEX, "node ids", true);
        return new ConfigKey.Validator() {
            @Override
            public String check(Object value) {
                String problem = ids.check(value);
                if (problem == null && ((List<?>) value).size() != 2) {
                    problem = "lists " + ((List<?>) value).size() + " node(s); a volume has exactly two";
                }
                return problem;
            }

            @Override
            public String describe() {
                return "two node ids from replayer.nodes";
            }
        };
    }

    /** The Kafka client settings: the pass-through {@code replayer.kafka.*} keys plus the bootstrap servers. */
    public Properties kafkaClientProperties() {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.setProperty("bootstrap.servers", bootstrapServers);
        return p;
    }

    public static ReplayerConfig load(Path file, Map<String, String> env) {
        Properties props = ConfigDef.readFile(file);
        ReplayerConfig config = from(props, env);
        KafkaClientCheck.CLIENTS.warnExposedSecrets(file, props, KAFKA_CLIENT_PREFIX, config.clientProperties(), "replayer.link.secret");
        return config;
    }

    /**
     * Every problem of a replayer's settings, at once (keys, values, pass-through Kafka settings,
     * cross-checks): what {@link #load} refuses and {@code blockrep config check} reports; empty when fine.
     */
    public static List<String> problems(Properties props, Map<String, String> env) {
        return DEF.check(props, env, ReplayerConfig::crossChecks).problems();
    }

    public static ReplayerConfig from(Properties props, Map<String, String> env) {
        Config c = DEF.parse(props, env, ReplayerConfig::crossChecks);
        Map<String, Node> nodes = new LinkedHashMap<>();
        ControlTls tls = ControlTls.fromConfig(c, "replayer.control.tls.");
        for (String id : c.ids("replayer.nodes")) {
            Path token = c.getPath("replayer.node.<id>.control.token.file", id);
            nodes.put(id, new Node(id, c.getHostPort("replayer.node.<id>.link", id), c.getHostPort("replayer.node.<id>.control", id),
                    token != null ? token : c.getPath("replayer.control.token.file"), tls));
        }
        List<VolumeNodes> volumes = new ArrayList<>();
        Map<String, Long> volumeRates = new LinkedHashMap<>();
        for (String id : c.ids("replayer.volumes")) {
            volumes.add(new VolumeNodes(id, c.getList("replayer.volume.<id>.nodes", id)));
            long rate = c.getSize("replayer.volume.<id>.rate", id);
            if (rate > 0) {
                volumeRates.put(id, rate);
            }
        }
        return new ReplayerConfig(c.getString("replayer.id"), c.getString("replayer.kafka.bootstrap.servers"),
                c.getString("replayer.topic.prefix"), c.getString("replayer.group.id"), c.passThrough(KAFKA_CLIENT_PREFIX),
                c.getString("replayer.link.secret"), c.getSize("replayer.rate"), c.getSize("replayer.max.extent"),
                c.getSize("replayer.dataset.bytes"), c.getBoolean("replayer.skip.identical"), c.getDuration("replayer.link.timeout"),
                nodes, volumes, LinkTls.settings(c, "replayer.link.tls."), c.getDuration("replayer.verify.interval"),
                c.getSize("replayer.verify.rate"), new Mirror(c.getString("replayer.mirror.policy"),
                        c.getList("replayer.mirror.peer.aliases"), c.getString("replayer.mirror.separator"),
                        c.getDuration("replayer.mirror.catchup.timeout")),
                c.isSet("replayer.metrics.listen") ? MetricsListen.parse(c.getString("replayer.metrics.listen")) : null,
                new StatusAppSettings(c.getBoolean("replayer.status.app.enabled"),
                        c.getHostPort("replayer.status.listen"), c.getPath("replayer.status.state.dir") != null
                        ? c.getPath("replayer.status.state.dir") : Path.of("status-app-state", c.getString("replayer.id"))),
                RegistrySetup.from(c, REGISTRY_PREFIX),
                new Copying(c.getInt("replayer.copy.concurrency"), c.getSize("replayer.copy.slice"), volumeRates));
    }

    /**
     * How the service copies many volumes: {@code concurrency} at once, {@code sliceBytes} per turn, and
     * the per-volume limits (bytes per second; a volume not in the map has only the shared replayer.rate).
     */
    public record Copying(int concurrency, long sliceBytes, Map<String, Long> volumeRates) {
        public static final Copying DEFAULT = new Copying(4, 64L << 20, Map.of());

        public Copying {
            volumeRates = Map.copyOf(volumeRates);
        }

        /** {@code volume}'s own limit in bytes per second, 0 when it has none. */
        public long volumeRate(String volume) {
            return volumeRates.getOrDefault(volume, 0L);
        }
    }

    /** Every volume's two nodes must be listed in replayer.nodes. */
    private static List<String> crossChecks(Config c) {
        List<String> problems = new ArrayList<>();
        List<String> known = c.ids("replayer.nodes");
        List<String> tokenKeys = new ArrayList<>(List.of("replayer.control.token.file"));
        known.forEach(id -> tokenKeys.add("replayer.node." + id + ".control.token.file"));
        for (String key : tokenKeys) {
            if (c.get(key) != null) {
                String problem = ControlToken.problem(key, (Path) c.get(key));
                if (problem != null) {
                    problems.add(problem);
                }
            }
        }
        problems.addAll(LinkTls.problems(c, "replayer.link.tls."));
        problems.addAll(SchemaRegistryConfig.problems(c, REGISTRY_PREFIX));
        Duration verify = (Duration) c.get("replayer.verify.interval");
        if (verify != null && verify.isNegative()) {
            problems.add("replayer.verify.interval: " + verify + " is negative (0s = never)");
        }
        problems.addAll(ControlTls.configProblems(c, "replayer.control.tls.", false));
        problems.addAll(mirrorProblems(c));
        for (String volume : c.ids("replayer.volumes")) {
            List<String> pair = c.getList("replayer.volume.<id>.nodes", volume);
            for (String node : pair == null ? List.<String>of() : pair) {
                if (!known.contains(node)) {
                    problems.add("replayer.volume." + volume + ".nodes: '" + node + "' is not listed in replayer.nodes " + known);
                }
            }
        }
        return problems;
    }

    /** replayer.mirror.*: default needs aliases, none takes none; the catch-up wait is positive. */
    private static List<String> mirrorProblems(Config c) {
        List<String> problems = new ArrayList<>();
        String policy = (String) c.get("replayer.mirror.policy");
        @SuppressWarnings("unchecked")
        List<String> aliases = (List<String>) c.get("replayer.mirror.peer.aliases");
        if (policy == null || aliases == null) {
            return problems; // already reported as a bad value
        }
        if (policy.equals("default") && aliases.isEmpty()) {
            problems.add("replayer.mirror.peer.aliases: required with replayer.mirror.policy=default (the MirrorMaker alias of the "
                    + "peer cluster, e.g. site-a: its dirty topic is read as site-a" + c.get("replayer.mirror.separator") + "<prefix>dirty)");
        }
        if (policy.equals("none") && !aliases.isEmpty()) {
            problems.add("replayer.mirror.peer.aliases: " + aliases + " given, but replayer.mirror.policy is none (one cluster, nothing "
                    + "mirrored); set replayer.mirror.policy=default or identity, or drop the aliases");
        }
        Duration catchup = (Duration) c.get("replayer.mirror.catchup.timeout");
        if (catchup != null && (catchup.isNegative() || catchup.isZero())) {
            problems.add("replayer.mirror.catchup.timeout: " + catchup + " must be positive");
        }
        return problems;
    }

    public VolumeNodes volume(String id) {
        return volumes.stream().filter(v -> v.volume().equals(id)).findFirst()
                .orElseThrow(() -> new InvalidInputException("volume '" + id + "' is not in replayer.volumes"));
    }

    public Node node(String id) {
        Node n = nodes.get(id);
        if (n == null) {
            throw new InvalidInputException("node '" + id + "' is not in replayer.nodes");
        }
        return n;
    }

    @Override
    public String toString() {
        return "ReplayerConfig[id=" + id + ", kafka=" + bootstrapServers + ", nodes=" + nodes.values() + ", volumes=" + volumes
                + ", secret=***]";
    }
}
