package io.blockrep.producer;

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
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.ControlTls;
import io.blockrep.common.config.StateDirCheck;
import io.blockrep.common.config.ControlToken;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.config.Validators;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.metrics.MetricsListen;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.producer.dirty.ExcludedRanges;
import io.blockrep.schemas.client.KafkaClientCheck;
import io.blockrep.producer.nbd.NbdTls;
import io.blockrep.schemas.registry.RegistrySetup;
import io.blockrep.schemas.registry.SchemaRegistryConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Configuration of one facility ({@code blockrep producer --config FILE}). {@link #DEF} is the one
 * table of keys; the README's configuration reference is generated from it and checked by a test.
 */
public record ProducerConfig(String nodeId, Path stateDir, HostPort nbdListen, int nbdMaxConnections, HostPort controlListen,
                             Link link, Kafka kafka, Resync resync, Duration checkpointInterval, List<VolumeSpec> volumes,
                             ControlAuth controlAuth, Nbd nbd, HostPort metricsListen) {

    private static final String ID_REGEX = "[a-z0-9][a-z0-9-]{0,62}";
    public static final String KAFKA_CLIENT_PREFIX = "producer.kafka.";
    public static final String REGISTRY_PREFIX = "producer.schema.registry.";

    public static final ConfigDef DEF = SchemaRegistryConfig.define(ConfigDef.builder()
            .required("producer.node.id", STRING, Validators.pattern(ID_REGEX, "an id of a-z, 0-9, '-'"),
                    "Stable id of this facility, e.g. site-a. Recorded in dirty keys and generation history.")
            .required("producer.state.dir", PATH, Validators.pattern(".+", "a path"),
                    "Directory for volume metadata, bitmaps and the activity log.")
            .define("producer.nbd.listen", HOST_PORT, "127.0.0.1:10809",
                    "Address the NBD server listens on; port 0 picks a free port.")
            .define("producer.nbd.max.connections", INT, "64", Validators.range(1, 4096),
                    "Most NBD client connections served at once; more are refused.")
            .define("producer.nbd.handshake.timeout", DURATION, "10s",
                    "Longest NBD negotiation, from the accept to the export chosen (TLS handshake included); a connection that takes longer is dropped, so sockets that send nothing cannot hold connection slots.")
            .define("producer.nbd.idle.timeout", DURATION, "5m",
                    "An NBD session with no request in flight and none received for this long is closed; 0s = never (set 0s for clients that keep an idle device open, like the kernel's nbd-client without reconnection).")
            .define("producer.nbd.reply.timeout", DURATION, "30s",
                    "An NBD client that takes no reply bytes for this long (stopped reading) is disconnected; it never blocks other clients meanwhile.")
            .define("producer.nbd.tls.keystore", PATH, null,
                    "PKCS12 (or JKS) keystore with the NBD server's private key and certificate chain; set = NBD_OPT_STARTTLS offered; unset = no NBD TLS.")
            .define("producer.nbd.tls.keystore.password", STRING, null,
                    "Password of producer.nbd.tls.keystore (and of its key). Prefer BLOCKREP_PRODUCER_NBD_TLS_KEYSTORE_PASSWORD.")
            .define("producer.nbd.tls.truststore", PATH, null,
                    "CA certificates (PEM file ending .pem/.crt, or PKCS12/JKS) that NBD client certificates must chain to; set = every NBD client must present a certificate.")
            .define("producer.nbd.tls.truststore.password", STRING, null, "Password of a PKCS12/JKS producer.nbd.tls.truststore.")
            .define("producer.nbd.tls.require", BOOLEAN, "true",
                    "With a keystore: refuse NBD clients that do not start TLS (NBD_REP_ERR_TLS_REQD); false lets plain-text clients in too.")
            .define("producer.nbd.tls.allowed.clients", LIST, "",
                    "NBD client certificates let in, by subject CN or sha256:<hex> fingerprint of the certificate; empty = any certificate the truststore verifies. Needs producer.nbd.tls.truststore.")
            .define("producer.control.listen", HOST_PORT, "127.0.0.1:10811",
                    "Address of the HTTP control API (status, link cut/restore); port 0 picks a free port. A non-loopback address needs producer.control.token.file.")
            .define("producer.control.token.file", PATH, null,
                    "File holding the control API's admin token (one line, at least 16 characters): every request must then carry it, or the read token, as Authorization: Bearer. Unset = no token, allowed only on a loopback listen address.")
            .define("producer.control.read.token.file", PATH, null,
                    "File holding a read-only control API token: GET /v1/status and .../regions only. Needs producer.control.token.file.")
            .define("producer.control.tls.enabled", BOOLEAN, "false",
                    "Serve the control API over HTTPS (TLS 1.3/1.2) and require every client to present a certificate that chains to producer.control.tls.truststore.path. Tokens still decide the role.")
            .define("producer.control.tls.keystore.path", PATH, null,
                    "Key store with the facility's certificate and private key; required with producer.control.tls.enabled.")
            .define("producer.control.tls.keystore.password", STRING, null,
                    "Password of the key store (and of its key). Prefer BLOCKREP_PRODUCER_CONTROL_TLS_KEYSTORE_PASSWORD.")
            .define("producer.control.tls.keystore.type", STRING, "PKCS12", Validators.oneOf(ControlTls.TYPES.toArray(String[]::new)),
                    "PKCS12, JKS, or PEM (one file: an unencrypted PKCS#8 private key and its certificate chain).")
            .define("producer.control.tls.truststore.path", PATH, null,
                    "Trust store with the CA certificates that client certificates must chain to; required with producer.control.tls.enabled.")
            .define("producer.control.tls.truststore.password", STRING, null,
                    "Password of the trust store; unset = read without integrity check.")
            .define("producer.control.tls.truststore.type", STRING, "PKCS12", Validators.oneOf(ControlTls.TYPES.toArray(String[]::new)),
                    "PKCS12, JKS, or PEM (a file of CA certificates).")
            .define("producer.metrics.listen", STRING, null, MetricsListen.VALIDATOR,
                    "Address of the Prometheus endpoint (GET /metrics, no token; a listener of its own): HOST:PORT, or PORT on 127.0.0.1; port 0 picks a free one. Unset = no metrics endpoint and nothing measured (the default, so many facilities on one host never collide on a port).")
            .define("producer.link.listen", HOST_PORT, "127.0.0.1:10810",
                    "Address the replication link listens on; the peer connects here for the volumes it is PRIMARY for. Every facility with a peer or a SECONDARY volume listens.")
            .define("producer.link.peer", HOST_PORT, null,
                    "Link address of the peer facility: PRIMARY volumes replicate to it, and every volume's role and generation are compared with it at each connection; unset = no peer (STANDALONE).")
            .define("producer.link.peer.id", STRING, null, Validators.pattern(ID_REGEX, "an id of a-z, 0-9, '-'"),
                    "Node id the peer must present at HELLO; unset = any authenticated peer.")
            .define("producer.link.secret", STRING, null,
                    "Shared secret for the link's HMAC challenge; required with a peer or a SECONDARY volume. Prefer BLOCKREP_PRODUCER_LINK_SECRET.")
            .define("producer.link.sync.mode", STRING, "sync", Validators.oneOf("SYNC", "ASYNC"),
                    "How REPLICATING mirrors writes. sync: a write is acknowledged after both sides have it (RPO zero, a round trip per write). async: acknowledged once durable here; its copy goes to the peer through a bounded queue (RPO = the queue's lag). Per volume: producer.volume.<id>.link.sync.mode.")
            .define("producer.link.async.queue.bytes", SIZE, "64M", Validators.range(64L << 10, 1L << 40),
                    "Async mode, per volume: most bytes of written data queued for the peer and not yet acknowledged; a write that does not fit marks the queued writes dirty and moves the volume to LOGGING (a resync catches up). Never blocks the writer.")
            .define("producer.link.async.max.lag", DURATION, "5s",
                    "Async mode: the oldest unacknowledged queued write may be at most this old; older marks the queue dirty and moves the volume to LOGGING. 0s = no age bound (only producer.link.async.queue.bytes and the ack timeout).")
            .define("producer.link.ack.timeout", DURATION, "5s",
                    "A write the peer has not acknowledged within this time puts the volume in LOGGING.")
            .define("producer.link.heartbeat.interval", DURATION, "1s", "Interval of PING heartbeats on an idle link.")
            .define("producer.link.missed.heartbeats", INT, "3", Validators.range(1, 100),
                    "Heartbeats missed in a row before the link counts as down.")
            .define("producer.link.connect.timeout", DURATION, "3s", "Timeout of one connection attempt to the peer.")
            .define("producer.link.backoff.max", DURATION, "10s", "Longest wait between reconnection attempts (exponential backoff).")
            .define("producer.link.restore.damping", DURATION, "10s",
                    "How long a reconnected link must stay healthy before it counts as restored.")
            .define("producer.link.queue.bytes", SIZE, "64M", Validators.range(33L << 20, 1L << 40),
                    "Most write bytes queued for the peer; a full queue applies backpressure.")
            .define("producer.link.unauthenticated.max", INT, "16", Validators.range(1, 4096),
                    "Most link connections in their handshake (TLS, authentication, HELLO) at once; more are refused at accept. Each must finish its whole handshake within producer.link.connect.timeout + 5s.")
            .define("producer.link.tls.enabled", BOOLEAN, "false",
                    "Mutual TLS on the link, both as server and towards the peer (the HMAC challenge still runs inside it). The peer and every replayer must then use TLS too.")
            .define("producer.link.tls.keystore", PATH, null, "PKCS12 (or producer.link.tls.keystore.type) keystore with this facility's certificate and key.")
            .define("producer.link.tls.keystore.password", STRING, null,
                    "Password of the keystore and its key. Prefer BLOCKREP_PRODUCER_LINK_TLS_KEYSTORE_PASSWORD.")
            .define("producer.link.tls.keystore.type", STRING, "PKCS12", "Type of the keystore.")
            .define("producer.link.tls.truststore", PATH, null,
                    "Keystore of the CA certificates (or peer certificates) a peer's certificate must chain to; optional when producer.link.tls.peer.fingerprints pins the peers.")
            .define("producer.link.tls.truststore.password", STRING, null, "Password of the truststore.")
            .define("producer.link.tls.truststore.type", STRING, "PKCS12", "Type of the truststore.")
            .define("producer.link.tls.hostname.verification", BOOLEAN, "true",
                    "Towards the peer: its certificate must name the host of producer.link.peer (DNS or IP SAN). Not used when fingerprints are pinned.")
            .define("producer.link.tls.peer.fingerprints", LIST, "", Validators.listOf(LinkTls.FINGERPRINT_REGEX, "SHA-256 fingerprints", false),
                    "SHA-256 fingerprints (hex, colons allowed) of the only certificates accepted from peers: the peer facility, and as server also every replayer; empty = any the truststore validates.")
            .define("producer.link.tls.check.node.id", BOOLEAN, "false",
                    "Each peer's certificate must name (CN or DNS SAN) the node id it authenticates with: the peer's producer.node.id, a replayer's replayer.id.")
            .define("producer.activity.checkpoint.interval", DURATION, "10s",
                    "How often hot regions of the activity log are cooled after both sides flushed.")
            .define("producer.autosync", BOOLEAN, "true",
                    "Resynchronise automatically when the link is restored; false waits for blockrep approve.")
            .define("producer.resync.cutover.regions", INT, "16", Validators.range(0, Integer.MAX_VALUE),
                    "Cut over (hold writes for the last era) once the open era has at most this many dirty regions, or no fewer than the era just copied.")
            .define("producer.resync.cutover.hold.timeout", DURATION, "2s",
                    "Longest write hold during cutover; past it writes are released in LOGGING and resync goes on.")
            .define("producer.kafka.bootstrap.servers", STRING, null,
                    "Kafka bootstrap servers for dirty records and events; unset = local bitmaps only.")
            .define("producer.topic.prefix", STRING, "blockrep.", Validators.pattern("[A-Za-z0-9._-]{0,200}", "a topic-name prefix"),
                    "Prefix of the topic names: <prefix>dirty, <prefix>events, <prefix>status.")
            .define("producer.topic.partitions", INT, "6", Validators.range(1, 10000),
                    "Partitions of topics the facility creates; the dirty topic's count must never change afterwards.")
            .define("producer.topic.replication.factor", INT, "-1", Validators.range(-1, 32),
                    "Replication factor of topics the facility creates; -1 = the broker's default.")
            .required("producer.volumes", LIST, Validators.listOf(ID_REGEX, "volume ids", true),
                    "Ids of the volumes this facility owns; each also names its NBD export.")
            .perIdFrom("producer.volumes")
            .required("producer.volume.<id>.size", SIZE, Validators.positiveMultipleOf(512),
                    "Size of the volume, e.g. 1G; must match an existing volume's size.")
            .define("producer.volume.<id>.region.size", SIZE, "64K",
                    Validators.powerOfTwoSize(RegionGeometry.MIN_REGION_SIZE, RegionGeometry.MAX_REGION_SIZE),
                    "Dirty-tracking region size.")
            .define("producer.volume.<id>.path", PATH, null,
                    "Backing file or block device; default {state.dir}/volumes/{id}/data.img, created sparse when missing.")
            .define("producer.volume.<id>.role", STRING, "PRIMARY", Validators.oneOf("PRIMARY", "SECONDARY"),
                    "Role of the volume when it is first created here; afterwards the role recorded in its metadata wins (changed by blockrep promote / demote). A SECONDARY is exported read-only.")
            .define("producer.volume.<id>.link.sync.mode", STRING, null, Validators.oneOf("SYNC", "ASYNC"),
                    "This volume's mirroring, sync or async; unset = producer.link.sync.mode.")
            .define("producer.volume.<id>.excluded", STRING, "",
                    "Byte ranges never marked dirty (scratch, swap), e.g. 0-1G,10G-12G.")
            .define("producer.volume.<id>.assume.clean", BOOLEAN, "false",
                    "At creation only: the copies on both sides are known to be identical (or both empty), so no initial sync is run (logged, not checked; blockrep verify compares them). Without it a volume created over a path that holds data gets a full sync of its non-zero regions on its first attachment to a peer.")
            .passThrough(KAFKA_CLIENT_PREFIX, KafkaClientCheck.CLIENTS), REGISTRY_PREFIX)
            .build();

    /**
     * One configured volume. {@code path} is null when the default location is meant;
     * {@code assumeClean} applies only when the volume is created.
     */
    public record VolumeSpec(String id, long size, int regionSize, Path path, Role role, String excluded, boolean assumeClean,
                             Boolean async) {
        public VolumeSpec {
            excluded = excluded == null ? "" : excluded;
        }

        /** A volume that follows the facility's producer.link.sync.mode. */
        public VolumeSpec(String id, long size, int regionSize, Path path, Role role, String excluded, boolean assumeClean) {
            this(id, size, regionSize, path, role, excluded, assumeClean, null);
        }
    }

    /** Replication-link settings. {@code peer} is null when this facility has no peer. */
    public record Link(HostPort listen, HostPort peer, String peerId, String secret, Duration ackTimeout,
                       Duration heartbeatInterval, int missedHeartbeats, Duration connectTimeout, Duration backoffMax,
                       Duration restoreDamping, long queueBytes, int maxUnauthenticated, LinkTls.Settings tls, Async async) {
        @Override
        public String toString() {
            return "Link[listen=" + listen + ", peer=" + peer + ", peerId=" + peerId + ", secret=" + (secret == null ? "unset" : "***")
                    + ", ackTimeout=" + ackTimeout + ", heartbeat=" + heartbeatInterval + "x" + missedHeartbeats + "]";
        }
    }

    /** Async mirroring: the facility's default mode ({@code enabled}), and each async volume's queue cap and lag bound. */
    public record Async(boolean enabled, long queueBytes, Duration maxLag) {
    }

    /** How volume {@code id} mirrors writes while REPLICATING: its own producer.volume.<id>.link.sync.mode, else the facility's. */
    public io.blockrep.producer.replication.ReplicatedVolume.MirrorPolicy mirror(String id) {
        Async a = link.async();
        Boolean own = volumes.stream().filter(v -> v.id().equals(id) && v.async() != null).findFirst().map(VolumeSpec::async).orElse(null);
        boolean async = own != null ? own : a.enabled();
        return async ? io.blockrep.producer.replication.ReplicatedVolume.MirrorPolicy.async(a.queueBytes(), a.maxLag())
                : io.blockrep.producer.replication.ReplicatedVolume.MirrorPolicy.SYNC;
    }

    /**
     * Control API tokens: files holding the admin and the read-only token; both null = no token (loopback only).
     * {@code tls}: the HTTPS key material (client certificates required), null = plain HTTP.
     */
    public record ControlAuth(Path tokenFile, Path readTokenFile, ControlTls tls) {
        public ControlAuth(Path tokenFile, Path readTokenFile) {
            this(tokenFile, readTokenFile, null);
        }
    }

    /**
     * NBD server deadlines and TLS (the listen address and connection cap are {@code nbdListen},
     * {@code nbdMaxConnections}); {@code tls} is null without a keystore.
     */
    public record Nbd(Duration handshakeTimeout, Duration idleTimeout, Duration replyTimeout, NbdTls.Settings tls) {
    }

    private static NbdTls.Settings nbdTls(Config c) {
        if (!c.isSet("producer.nbd.tls.keystore")) {
            return null;
        }
        List<String> allowed = c.getList("producer.nbd.tls.allowed.clients");
        return new NbdTls.Settings(c.getPath("producer.nbd.tls.keystore"), c.getString("producer.nbd.tls.keystore.password"),
                c.getPath("producer.nbd.tls.truststore"), c.getString("producer.nbd.tls.truststore.password"),
                c.getBoolean("producer.nbd.tls.require"), allowed);
    }

    /** Resync settings: autosync, and when and how long a cutover may hold writes. */
    public record Resync(boolean autosync, int cutoverRegions, Duration cutoverHoldTimeout) {
    }

    /** Kafka settings. {@code bootstrapServers} is null when Kafka is not used; {@code registry} says how values are framed. */
    public record Kafka(String bootstrapServers, String topicPrefix, int partitions, int replicationFactor, Properties clientProperties,
                        RegistrySetup registry) {
        public boolean enabled() {
            return bootstrapServers != null;
        }
    }

    public ProducerConfig {
        volumes = List.copyOf(volumes);
    }

    /** Reads and validates a properties file, with {@code BLOCKREP_*} environment overrides. */
    public static ProducerConfig load(Path file, Map<String, String> env) {
        Properties props = ConfigDef.readFile(file);
        List<String> problems = problems(props, env);
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
        ProducerConfig config = from(props, env);
        KafkaClientCheck.CLIENTS.warnExposedSecrets(file, props, KAFKA_CLIENT_PREFIX, config.kafka().clientProperties(),
                "producer.link.secret");
        return config;
    }

    /**
     * Every problem of a facility's settings, at once: the table's (keys, values, pass-through Kafka
     * settings, cross-checks) and the configured volumes against their metadata in the state directory
     * ({@link StateDirCheck}). What {@link #load} refuses to start with and {@code blockrep config check}
     * reports; empty when the settings are fine.
     */
    public static List<String> problems(Properties props, Map<String, String> env) {
        ConfigDef.Checked checked = DEF.check(props, env, ProducerConfig::crossChecks);
        Config c = checked.config();
        List<String> problems = new ArrayList<>(checked.problems());
        List<StateDirCheck.Expected> volumes = c.ids().stream().map(id -> new StateDirCheck.Expected(id,
                (Long) c.get("producer.volume." + id + ".size"), (Long) c.get("producer.volume." + id + ".region.size"),
                (Path) c.get("producer.volume." + id + ".path"))).toList();
        problems.addAll(StateDirCheck.problems((Path) c.get("producer.state.dir"), "producer.volume.", volumes));
        return problems;
    }

    public static ProducerConfig from(Properties props, Map<String, String> env) {
        Config c = DEF.parse(props, env, ProducerConfig::crossChecks);
        List<VolumeSpec> volumes = c.ids().stream().map(id -> new VolumeSpec(id,
                c.getSize("producer.volume.<id>.size", id),
                (int) c.getSize("producer.volume.<id>.region.size", id),
                c.getPath("producer.volume.<id>.path", id),
                role(c, id),
                c.getString("producer.volume.<id>.excluded", id),
                c.getBoolean("producer.volume.<id>.assume.clean", id),
                c.getString("producer.volume.<id>.link.sync.mode", id) == null ? null
                        : "ASYNC".equalsIgnoreCase(c.getString("producer.volume.<id>.link.sync.mode", id)))).toList();
        Link link = new Link(c.getHostPort("producer.link.listen"), (HostPort) c.get("producer.link.peer"),
                c.getString("producer.link.peer.id"), c.getString("producer.link.secret"),
                c.getDuration("producer.link.ack.timeout"), c.getDuration("producer.link.heartbeat.interval"),
                c.getInt("producer.link.missed.heartbeats"), c.getDuration("producer.link.connect.timeout"),
                c.getDuration("producer.link.backoff.max"), c.getDuration("producer.link.restore.damping"),
                c.getSize("producer.link.queue.bytes"), c.getInt("producer.link.unauthenticated.max"),
                LinkTls.settings(c, "producer.link.tls."),
                new Async("ASYNC".equalsIgnoreCase(c.getString("producer.link.sync.mode")), c.getSize("producer.link.async.queue.bytes"),
                        c.getDuration("producer.link.async.max.lag")));
        Kafka kafka = new Kafka(c.getString("producer.kafka.bootstrap.servers"), c.getString("producer.topic.prefix"),
                c.getInt("producer.topic.partitions"), c.getInt("producer.topic.replication.factor"),
                c.passThrough(KAFKA_CLIENT_PREFIX), RegistrySetup.from(c, REGISTRY_PREFIX));
        return new ProducerConfig(c.getString("producer.node.id"), c.getPath("producer.state.dir"),
                c.getHostPort("producer.nbd.listen"), c.getInt("producer.nbd.max.connections"),
                c.getHostPort("producer.control.listen"), link, kafka,
                new Resync(c.getBoolean("producer.autosync"), c.getInt("producer.resync.cutover.regions"),
                        c.getDuration("producer.resync.cutover.hold.timeout")),
                c.getDuration("producer.activity.checkpoint.interval"), volumes,
                new ControlAuth(c.getPath("producer.control.token.file"), c.getPath("producer.control.read.token.file"),
                        ControlTls.fromConfig(c, "producer.control.tls.")),
                new Nbd(c.getDuration("producer.nbd.handshake.timeout"), c.getDuration("producer.nbd.idle.timeout"),
                        c.getDuration("producer.nbd.reply.timeout"), nbdTls(c)),
                c.isSet("producer.metrics.listen") ? MetricsListen.parse(c.getString("producer.metrics.listen")) : null);
    }

    private static Role role(Config c, String id) {
        return Role.valueOf(c.getString("producer.volume.<id>.role", id).toUpperCase(Locale.ROOT));
    }

    /** Readable tokens; a read token only with an admin token; an admin token whenever the API listens off loopback. */
    private static List<String> controlAuthProblems(Config c) {
        List<String> problems = new ArrayList<>();
        for (String key : List.of("producer.control.token.file", "producer.control.read.token.file")) {
            if (c.get(key) != null) {
                String problem = ControlToken.problem(key, c.getPath(key));
                if (problem != null) {
                    problems.add(problem);
                }
            }
        }
        if (c.get("producer.control.read.token.file") != null && c.get("producer.control.token.file") == null) {
            problems.add("producer.control.read.token.file: needs producer.control.token.file (the admin token) as well");
        }
        problems.addAll(ControlTls.configProblems(c, "producer.control.tls.", true));
        HostPort listen = (HostPort) c.get("producer.control.listen");
        if (listen != null && c.get("producer.control.token.file") == null && !ControlToken.isLoopback(listen.host())) {
            problems.add("producer.control.listen: " + listen.host() + " is not a loopback address, so the control API needs a token:"
                    + " set producer.control.token.file (a file with one random line of at least " + ControlToken.MIN_LENGTH
                    + " characters, e.g. from openssl rand -hex 32)"
                    + (Boolean.TRUE.equals(c.get("producer.control.tls.enabled"))
                            ? "; client certificates (producer.control.tls.*) authenticate the connection, the token decides the role" : ""));
        }
        return problems;
    }

    /** Rules that involve several keys; reported together with the per-key problems. */
    private static List<String> crossChecks(Config c) {
        List<String> problems = new ArrayList<>();
        boolean anySecondary = false;
        for (String id : c.ids()) {
            String role = (String) c.get("producer.volume." + id + ".role");
            anySecondary |= role != null && role.equalsIgnoreCase("SECONDARY");
            String excluded = (String) c.get("producer.volume." + id + ".excluded");
            if (excluded != null && !excluded.isBlank()) {
                try {
                    ExcludedRanges.parse(excluded);
                } catch (InvalidInputException e) {
                    e.problems().forEach(p -> problems.add("producer.volume." + id + ".excluded: " + p));
                }
            }
        }
        boolean hasPeer = c.isSet("producer.link.peer");
        if ((hasPeer || anySecondary) && !c.isSet("producer.link.secret")) {
            problems.add("producer.link.secret: required when producer.link.peer is set or a volume is SECONDARY"
                    + " (or set BLOCKREP_PRODUCER_LINK_SECRET)");
        }
        if (c.isSet("producer.link.secret") && c.getString("producer.link.secret").length() < 16) {
            problems.add("producer.link.secret: must be at least 16 characters");
        }
        problems.addAll(controlAuthProblems(c));
        problems.addAll(LinkTls.problems(c, "producer.link.tls."));
        problems.addAll(SchemaRegistryConfig.problems(c, REGISTRY_PREFIX));
        for (String key : List.of("producer.nbd.handshake.timeout", "producer.nbd.reply.timeout", "producer.nbd.idle.timeout")) {
            if (c.get(key) instanceof Duration d && (d.isNegative() || d.isZero() && !key.endsWith("idle.timeout"))) {
                problems.add(key + ": must be positive" + (key.endsWith("idle.timeout") ? " or 0s" : ""));
            }
        }
        boolean allowList = c.get("producer.nbd.tls.allowed.clients") instanceof List<?> l && !l.isEmpty();
        if (!c.isSet("producer.nbd.tls.keystore") && (c.isSet("producer.nbd.tls.truststore") || allowList)) {
            problems.add("producer.nbd.tls.keystore: required when producer.nbd.tls.truststore or producer.nbd.tls.allowed.clients is set");
        }
        if (allowList && !c.isSet("producer.nbd.tls.truststore")) {
            problems.add("producer.nbd.tls.truststore: required when producer.nbd.tls.allowed.clients is set (client certificates must be verified)");
        }
        if (c.isSet("producer.topic.replication.factor") && c.getInt("producer.topic.replication.factor") == 0) {
            problems.add("producer.topic.replication.factor: 0 is not a replication factor (use -1 for the broker's default)");
        }
        return problems;
    }
}
