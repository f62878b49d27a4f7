package io.blockrep.producer;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.Sizes;
import io.blockrep.common.io.FileModes;
import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.control.ClientCertificateRefusals;
import io.blockrep.producer.control.ControlHandler;
import io.blockrep.producer.control.ControlAccess;
import io.blockrep.producer.control.ControlServer;
import io.blockrep.common.config.ControlToken;
import io.blockrep.common.config.StateDirCheck;
import io.blockrep.common.thread.Supervised;
import io.blockrep.producer.control.DirtyRegions;
import io.blockrep.producer.control.FacilityStatus;
import io.blockrep.producer.control.RoleChange;
import io.blockrep.producer.control.VolumeStatus;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import io.blockrep.producer.dirty.RegionRuns;
import io.blockrep.producer.dirty.StateDamage;
import io.blockrep.producer.journal.DataSetJournal;
import io.blockrep.producer.link.LinkConfig;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.link.LinkServer;
import io.blockrep.producer.link.LinkServerConfig;
import io.blockrep.producer.link.LinkVolumes;
import io.blockrep.producer.metrics.FacilityMetrics;
import io.blockrep.producer.nbd.NbdExport;
import io.blockrep.producer.nbd.NbdExportRegistry;
import io.blockrep.producer.nbd.NbdServer;
import io.blockrep.producer.nbd.NbdTls;
import io.blockrep.producer.nbd.VolumeExport;
import io.blockrep.producer.replication.InitialSyncSetup;
import io.blockrep.producer.replication.SerialExecutor;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.ModeTimer;
import io.blockrep.producer.replication.PeerLink;
import io.blockrep.producer.replication.PeerView;
import io.blockrep.producer.replication.VolumeHandle;
import io.blockrep.producer.replication.ReplicatedVolume;
import io.blockrep.producer.publish.DirtyPublisher;
import io.blockrep.producer.publish.EventPublisher;
import io.blockrep.producer.publish.KafkaBootstrap;
import io.blockrep.producer.publish.PublisherConfig;
import io.blockrep.producer.publish.PublisherListener;
import io.blockrep.producer.publish.PublisherStats;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SortedMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running facility ({@code blockrep producer}): owns the volumes of its configuration, serves
 * them over NBD, mirrors PRIMARY volumes to the peer over the replication link, records dirty
 * regions while the link is down, applies the peer's writes to SECONDARY volumes, and answers the
 * control API. It holds an exclusive lock on its state directory.
 *
 * <p>Start order: lock, volumes, dirty trackers, link server, peer link, NBD, control API. Close
 * order is the reverse, so no write arrives after the trackers and volumes are closed; the activity
 * log is emptied only when the peer confirmed a flush (otherwise hot regions become dirty first).
 *
 * <p>Thread-safety: {@link #start} and {@link #close} are called by one owner thread; the rest is
 * safe from any thread.
 */
public final class Facility implements AutoCloseable, ControlHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Facility.class);
    static final String LOCK_FILE = "facility.lock";

    private final ProducerConfig config;
    private final Clock clock;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<String, Volume> volumes = new LinkedHashMap<>();
    /** Every volume, whatever its role: the role and mode live in the ReplicatedVolume and may change. */
    private final Map<String, ReplicatedVolume> replicated = new LinkedHashMap<>();
    /** One serial executor per volume: its link events apply in the order the link reported them. */
    private final Map<String, SerialExecutor> linkEvents = new LinkedHashMap<>();
    private final Map<String, VolumeStatus.ReplayProgress> replayProgress = new java.util.concurrent.ConcurrentHashMap<>();
    /** The last verify result reported per volume (in memory: a restarted facility shows none until the next). */
    private final Map<String, VolumeStatus.VerifyResult> lastVerify = new java.util.concurrent.ConcurrentHashMap<>();
    private final ExecutorService io;
    private final ScheduledExecutorService scheduler;
    /** The volumes' mode timers (cutover and other hold bounds, LOGGING retries): never behind the checkpoint's blocking flushes. */
    private final ScheduledExecutorService modeTimers;
    /** The owner of the failures of io, the link events, the mode timers, the checkpointer and the publishers' restarts. */
    private final ComponentSupervisor supervisor;
    /** {@link #io} as the volumes see it: a task that throws is handed to the {@link #supervisor}. */
    private final java.util.concurrent.Executor volumeIo;
    private DirtyPublisher dirtyPublisher;
    private EventPublisher eventPublisher;
    private PublishingObserver observer;
    private PeerLink peerLink;
    /** Built on first use from producer.link.tls.*; null while plaintext. */
    private LinkTls linkTls;
    private LinkServer linkServer;
    private NbdServer nbd;
    private ControlServer control;
    /** The Prometheus endpoint (producer.metrics.listen); measures nothing when that is unset. */
    private FacilityMetrics metrics;
    /** Whether the last run stopped in order ({@link CleanStopMarker}); whether this one writes the marker at close. */
    private boolean lastStopClean;
    private volatile boolean markCleanStopAtClose;
    /** Per volume: the damaged or missing state files its tracker found at start, for status. */
    private final Map<String, String> stateDamage = new java.util.concurrent.ConcurrentHashMap<>();

    private Facility(ProducerConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.io = Executors.newFixedThreadPool(4, daemon("volume-io-" + config.nodeId()));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("facility-" + config.nodeId()));
        this.modeTimers = Executors.newSingleThreadScheduledExecutor(daemon("mode-timers-" + config.nodeId()));
        this.supervisor = new ComponentSupervisor(clock, scheduler, () -> List.copyOf(replicated.keySet()),
                () -> observer == null ? null : observer::event,
                config.link().peer() == null ? null : () -> peerLink.reconnect("restarting replication after a component failure", Duration.ZERO));
        String ioName = "volume-io-" + config.nodeId();
        this.volumeIo = task -> io.execute(Supervised.guarded(ioName, task, e -> supervisor.failed(ioName, e)));
    }

    /** Locks the state directory, opens (creating when missing) every configured volume and starts serving. */
    public static Facility start(ProducerConfig config) {
        Facility f = new Facility(config, Clock.systemUTC());
        try {
            f.startComponents();
            return f;
        } catch (IOException e) {
            f.close();
            throw new FatalException("cannot start facility " + config.nodeId() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private void startComponents() throws IOException {
        FileModes.createPrivateDirectories(config.stateDir());
        FileChannel lockChannel = FileModes.openPrivate(config.stateDir().resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        resources.add(lockChannel);
        lock(lockChannel, config.stateDir());
        metrics = FacilityMetrics.start(config.metricsListen(), config.nodeId(), clock);
        lastStopClean = CleanStopMarker.consume(config.stateDir());
        markCleanStopAtClose = lastStopClean; // a start that fails half-way must not turn a crash into a clean stop
        resources.add(() -> {
            if (markCleanStopAtClose) {
                CleanStopMarker.write(config.stateDir()); // last before the lock: everything else is closed
            }
        });

        VolumeStore store = new VolumeStore(config.stateDir());
        store.restrictModes();
        List<VolumeMetadata> metas = provision(store, config);
        Map<String, DataSetJournal.Recovery> recovered = new LinkedHashMap<>();
        for (int i = 0; i < metas.size(); i++) {
            VolumeMetadata meta = metas.get(i);
            Volume v = Volume.open(meta, false);
            volumes.put(meta.id(), v);
            resources.add(v);
            DataSetJournal.Recovery r = DataSetJournal.recover(store.volumeDir(meta.id()), v);
            if (r.foundAny()) {
                recovered.put(meta.id(), r);
            }
            if (!r.corrupt().isEmpty() && meta.consistent()) {
                // a set that may be half-applied: this copy is not known good until a resync completes
                metas.set(i, meta.withConsistent(false));
                store.save(metas.get(i));
            }
        }
        startPublishers();
        recovered.forEach((id, r) -> observer.event(id, EventType.OTHER, null, Map.of("kind", "JOURNAL_RECOVERY", "detail", r.summary())));
        recovered.forEach((id, r) -> reportStateDamage(id, r.corrupt().stream().map(c -> new StateDamage(DataSetJournal.DIRECTORY + "/" + c,
                "is corrupt and may have been committed", 0, "not applied; the copy is marked inconsistent until a resync")).toList()));
        startVolumes(store, metas);
        startLinkServer(store);
        nbd = new NbdServer(new NbdServer.Config(config.nbdListen().host(), config.nbdListen().port(),
                NbdExportRegistry.of(replicated.values().stream().map(VolumeExport::new).toArray(NbdExport[]::new)),
                new NbdServer.Limits(config.nbdMaxConnections(), config.nbd().handshakeTimeout(), config.nbd().idleTimeout(),
                        config.nbd().replyTimeout()), nbdTls()).withMeters(metrics.nbd()));
        nbd.start();
        control = ControlServer.start(config.controlListen(), controlAccess(config),
                config.controlAuth().tls() == null ? null : config.controlAuth().tls().sslContext(ClientCertificateRefusals::refused), this);
        if (peerLink != null) {
            peerLink.start();
            long every = config.checkpointInterval().toMillis();
            // A failed checkpoint cools nothing (hot regions stay hot, the safe side); the next one is its restart.
            scheduler.scheduleWithFixedDelay(Supervised.guarded("activity checkpointer", this::checkpointActivity,
                    e -> supervisor.retried("activity checkpointer", e)), every, every, TimeUnit.MILLISECONDS);
        }
        markCleanStopAtClose = true;
        LOG.info("facility {} serving {} volume(s): NBD {}:{}, control {}:{}{}{}", config.nodeId(), volumes.size(),
                config.nbdListen().host(), nbd.port(), config.controlListen().host(), control.port(),
                linkServer == null ? "" : ", link " + config.link().listen().host() + ":" + linkServer.port(),
                metrics.url().map(u -> ", metrics " + u).orElse(""));
    }

    /** The control API's tokens, read once at start (the configuration checked them). */
    private static ControlAccess controlAccess(ProducerConfig config) {
        ProducerConfig.ControlAuth auth = config.controlAuth();
        if (auth.tokenFile() == null) {
            return ControlAccess.open(config.controlListen().host());
        }
        return ControlAccess.tokens(config.controlListen().host(), ControlToken.read("producer.control.token.file", auth.tokenFile()),
                auth.readTokenFile() == null ? null : ControlToken.read("producer.control.read.token.file", auth.readTokenFile()));
    }

    /**
     * One {@link ReplicatedVolume} per volume, whatever its role. With a peer, every volume has its
     * dirty tracker (a SECONDARY may be promoted and log its own writes) and the peer link offers
     * every volume with its role and generation history at each connection.
     */
    private void startVolumes(VolumeStore store, List<VolumeMetadata> metas) {
        boolean hasPeer = config.link().peer() != null;
        if (hasPeer) {
            peerLink = new PeerLink(linkConfig(), this::offeredVolumes, metrics.link(new LinkListener() {
                @Override
                public void onLinkRestored(LinkHandshake.Outcome handshake) {
                    replicated.keySet().forEach(id -> observer.event(id, EventType.LINK_RESTORED, null, Map.of("peer", peerLink.peer())));
                    replicated.forEach((id, v) -> linkEvents.get(id).execute(() -> v.linkRestored(PeerView.of(handshake, id))));
                }

                @Override
                public void onLinkDown(String reason) {
                    replicated.keySet().forEach(id -> observer.event(id, EventType.LINK_DOWN, null, Map.of("reason", reason)));
                    replicated.forEach((id, v) -> linkEvents.get(id).execute(() -> v.linkDown(reason)));
                }
            }, () -> peerLink != null && "HEALTHY".equals(peerLink.state())));
        }
        for (VolumeMetadata meta : metas) {
            VolumeHandle handle = new VolumeHandle(volumes.get(meta.id()), meta, store);
            DirtyTracker tracker = null;
            if (hasPeer) {
                String excluded = config.volumes().stream().filter(s -> s.id().equals(meta.id())).findFirst()
                        .map(ProducerConfig.VolumeSpec::excluded).orElse("");
                tracker = DirtyTracker.open(store.volumeDir(meta.id()), meta, config.nodeId(), ExcludedRanges.parse(excluded),
                        clock.millis(), lastStopClean);
                resources.add(tracker);
                reportStateDamage(meta.id(), tracker.stateDamage());
                long recovered = tracker.recoveredHotRegions().getLongCardinality();
                if (recovered > 0) {
                    LOG.warn("volume {}: unclean stop while replicating; {} hot region(s) are now dirty", meta.id(), recovered);
                }
                if (dirtyPublisher != null) {
                    // The bitmaps are the outbox: whatever Kafka lacks (recovered hot regions, a backlog) is published from them.
                    dirtyPublisher.register(new TrackerSource(meta.id(), meta.size(), meta.regionSize(), tracker));
                    hintHotAfterCrash(meta.id(), tracker);
                }
            }
            // Before the ReplicatedVolume exists: regions marked for an initial sync make it diverge from the peer's generation.
            InitialSyncSetup.beforeStart(handle, tracker, observer, config.nodeId(), clock);
            ProducerConfig.Resync r = config.resync();
            ReplicatedVolume.Services services = new ReplicatedVolume.Services(config.nodeId(), clock, volumeIo,
                    ModeTimer.of(modeTimers, e -> supervisor.failed("mode timer of volume " + meta.id(), e)),
                    new ReplicatedVolume.ResyncPolicy(r.autosync(), r.cutoverRegions(), r.cutoverHoldTimeout(), config.link().restoreDamping()),
                    () -> peerLink.reconnect("volume " + meta.id() + " changed its role", config.link().connectTimeout()),
                    config.mirror(meta.id()));
            replicated.put(meta.id(), new ReplicatedVolume(handle, tracker, hasPeer ? peerLink : null,
                    InitialSyncSetup.completing(observer, handle, tracker != null, config.nodeId(), clock), services));
            metrics.volume(replicated.get(meta.id()));
            String events = "link events of volume " + meta.id();
            linkEvents.put(meta.id(), new SerialExecutor(volumeIo, events, e -> supervisor.failed(events, e)));
        }
    }

    /**
     * Names the cause of the hot regions an unclean stop made dirty (HOT_AFTER_CRASH), for up to 65,536 of them: the
     * hints only label records the outbox publishes anyway (as UNKNOWN past the cap, or when a hint is dropped).
     */
    private void hintHotAfterCrash(String volume, DirtyTracker tracker) {
        org.roaringbitmap.RoaringBitmap hot = tracker.recoveredHotRegions();
        if (hot.isEmpty() || hot.getLongCardinality() > 65_536) {
            return;
        }
        long era = tracker.openEra();
        long now = clock.millis();
        hot.forEach((int r) -> observer.firstTouch(volume, era, Integer.toUnsignedLong(r), now, DirtyCause.HOT_AFTER_CRASH));
    }

    /** Each damaged state file: an event (the log line is the tracker's) and, until the next start, the volume's status. */
    private void reportStateDamage(String volume, List<StateDamage> damage) {
        if (damage.isEmpty()) {
            return;
        }
        for (StateDamage d : damage) {
            observer.event(volume, EventType.OTHER, null, Map.of("kind", "STATE_DAMAGED", "file", d.file(), "cause", d.cause(),
                    "regions", Long.toString(d.regions()), "detail", d.summary()));
        }
        stateDamage.put(volume, "state damaged: " + String.join("; ", damage.stream().map(StateDamage::summary).toList()));
    }

    private void startPublishers() {
        ProducerConfig.Kafka k = config.kafka();
        if (k.enabled()) {
            PublisherConfig pc = PublisherConfig.defaults(k.bootstrapServers(), config.nodeId(), config.stateDir())
                    .withTopics(new TopicLayout(k.topicPrefix()), k.partitions())
                    .withReplicationFactor((short) k.replicationFactor())
                    .withClientProperties(metrics.kafkaClientProperties(k.clientProperties()));
            PublisherListener listener = new PublisherListener() {
                @Override
                public void onFailure(Throwable error, boolean fatal) {
                    if (fatal) {
                        LOG.error("Kafka publishing stopped: {}; writes go on and are kept in the local bitmaps", error.getMessage());
                    }
                }

                @Override
                public void onRestart(String component, Throwable cause, int attempt) {
                    supervisor.restarted(component, cause, attempt);
                }
            };
            ValueCodecs codecs = ValueCodecs.of(k.registry(), pc.topics());
            codecs.tryConnect(); // a registry that refuses stops the start here; one that is down only delays publishing
            dirtyPublisher = DirtyPublisher.start(pc, codecs, clock, listener);
            eventPublisher = EventPublisher.start(pc, codecs, listener);
            metrics.publisher(dirtyPublisher::stats);
            if (!KafkaBootstrap.resolves(k.bootstrapServers())) {
                LOG.warn("producer.kafka.bootstrap.servers={}: no address in it resolves; dirty records and events wait in the "
                        + "local bitmaps and buffers until Kafka can be reached", k.bootstrapServers());
            }
        } else if (config.link().peer() != null) {
            LOG.warn("producer.link.peer is set but producer.kafka.bootstrap.servers is not: Kafka is off, dirty regions are kept "
                    + "in the local bitmaps only and no replayer can see or resynchronise them (check the key's spelling)");
        } else {
            LOG.info("no producer.kafka.bootstrap.servers: dirty regions are kept in the local bitmaps only");
        }
        observer = new PublishingObserver(config.nodeId(), clock, dirtyPublisher, eventPublisher);
    }

    /** What the peer link offers at each connection: every volume, its current role and generation history. */
    private List<VolumeInfo> offeredVolumes() {
        List<VolumeInfo> offered = new ArrayList<>();
        for (ReplicatedVolume v : replicated.values()) {
            VolumeMetadata m = v.metadata();
            offered.add(new VolumeInfo(m.id(), m.size(), m.regionSize(), m.role(), m.generations().entries()));
        }
        return offered;
    }

    /** The NBD server's TLS, or null when none is configured; a keystore that cannot be loaded stops the start. */
    private NbdTls nbdTls() {
        NbdTls.Settings settings = config.nbd().tls();
        if (settings == null) {
            return null;
        }
        try {
            return NbdTls.load(settings);
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw new FatalException("cannot load the NBD TLS credentials (" + settings + "): " + e, e);
        }
    }

    private LinkConfig linkConfig() {
        ProducerConfig.Link l = config.link();
        return new LinkConfig(config.nodeId(), l.peer(), SharedSecret.of(l.secret()), l.ackTimeout(), l.heartbeatInterval(),
                l.missedHeartbeats(), l.connectTimeout(), Duration.ofMillis(100), l.backoffMax(), l.restoreDamping(), l.queueBytes(),
                l.peerId()).withTls(linkTls());
    }

    /**
     * Every facility that can authenticate a peer serves its link: roles move, so the peer connects
     * here when it holds the PRIMARY, and a primary answers the replayer's READs of its volumes (the
     * replayer reads sources over the link).
     */
    private void startLinkServer(VolumeStore store) {
        if (config.link().secret() == null) {
            return;
        }
        ProducerConfig.Link l = config.link();
        Duration idle = l.heartbeatInterval().multipliedBy(Math.max(10, l.missedHeartbeats() * 4L));
        linkServer = LinkServer.start(new LinkServerConfig(config.nodeId(), l.listen().host(), l.listen().port(),
                SharedSecret.of(l.secret()), l.connectTimeout().plusSeconds(5), idle, l.maxUnauthenticated(), linkTls()),
                new FacilityLinkVolumes(store));
    }

    /** The link's TLS context (producer.link.tls.*), built once and shared by the server and the peer link; null = plaintext. */
    private LinkTls linkTls() {
        if (linkTls == null && config.link().tls() != null) {
            linkTls = LinkTls.of(config.link().tls());
        }
        return linkTls;
    }

    /** The link server's view of this facility's volumes; a SECONDARY records what its primary tells it. */
    private final class FacilityLinkVolumes implements LinkVolumes {
        private final VolumeStore store;

        FacilityLinkVolumes(VolumeStore store) {
            this.store = store;
        }

        @Override
        public Optional<Entry> find(String id) {
            ReplicatedVolume v = replicated.get(id);
            if (v == null) {
                return Optional.empty();
            }
            VolumeMetadata m = v.metadata();
            return Optional.of(new Entry(v.volume(), m.role(), store.volumeDir(id), m.generations()));
        }

        @Override
        public void peerDescribed(String peerNode, VolumeInfo theirs, SyncDecision decision) {
            ReplicatedVolume v = replicated.get(theirs.id());
            if (v == null) {
                return;
            }
            v.recordPeer(peerNode, theirs.role(), theirs.history(), "connected to this side");
            if (peerLink != null && v.role() == Role.PRIMARY && v.refusedByPeer() && theirs.role() == Role.SECONDARY
                    && (decision == SyncDecision.LOCAL_NEWER || decision == SyncDecision.SAME) && "HEALTHY".equals(peerLink.state())) {
                // The peer refused this volume on our connection, and now its copy may follow ours (a split
                // brain was resolved in our favour, it took a full copy, it was demoted): a new handshake attaches it.
                volumeIo.execute(() -> peerLink.reconnect("peer " + peerNode + " now takes volume " + theirs.id(), Duration.ZERO));
            }
        }

        @Override
        public void dataSetApplied(String id, long bytes) {
            ReplicatedVolume v = replicated.get(id);
            if (v != null) {
                v.dataSetApplied(bytes);
            }
        }

        @Override
        public void generationUpdate(String id, boolean inSync, List<Generation> history) {
            ReplicatedVolume v = replicated.get(id);
            if (v == null) {
                throw new InvalidInputException("no volume '" + id + "'");
            }
            v.peerGeneration(inSync, history);
        }

        /**
         * Marks the copy inconsistent, persisted through the volume's handle, on the first data set of
         * a resync; later sets find it inconsistent already and cost a volatile read. The BEGINs come
         * on the replayer's connection, GENERATION on the primary's, unordered here; the primary sends
         * inSync=true only once every set of the resync was acknowledged, so a BEGIN that finds the copy
         * inconsistent already belongs to the resync under way.
         */
        @Override
        public void resyncBegun(String id) {
            ReplicatedVolume v = replicated.get(id);
            if (v == null) {
                throw new InvalidInputException("no volume '" + id + "'");
            }
            if (v.metadata().consistent()) {
                v.peerGeneration(false, v.metadata().generations().entries());
            }
        }
    }

    private void checkpointActivity() {
        for (ReplicatedVolume v : replicated.values()) {
            try {
                long cooled = v.checkpointActivity(config.link().ackTimeout().toMillis());
                LOG.debug("volume {}: activity checkpoint cooled {} region(s)", v.name(), cooled);
            } catch (RuntimeException e) {
                LOG.error("volume {}: activity checkpoint failed; its hot regions stay hot until the next one", v.name(), e);
            } catch (Exception e) {
                LOG.debug("volume {}: activity checkpoint skipped: {}", v.name(), e.toString());
            }
        }
    }

    /** The lock lives as long as the channel; closing the channel releases it. */
    private static void lock(FileChannel ch, Path stateDir) throws IOException {
        boolean locked;
        try {
            locked = ch.tryLock() != null;
        } catch (OverlappingFileLockException e) {
            locked = false;
        }
        if (!locked) {
            throw new RetriableException("state directory " + stateDir + " is in use by another blockrep producer");
        }
    }

    /** Loads every configured volume, creating missing ones; all mismatches are reported at once. */
    static List<VolumeMetadata> provision(VolumeStore store, ProducerConfig config) {
        List<String> problems = new ArrayList<>();
        List<VolumeMetadata> result = new ArrayList<>();
        for (ProducerConfig.VolumeSpec spec : config.volumes()) {
            if (!store.exists(spec.id()) && store.hasTrackingState(spec.id())) {
                problems.add(damagedMetadata(store, spec, config.nodeId(), "is missing, but " + store.volumeDir(spec.id())
                        + " holds the volume's dirty-tracking state"));
                continue;
            }
            if (!store.exists(spec.id())) {
                // Declarative: a configured volume that does not exist yet is created (sparse, unless its path exists).
                VolumeMetadata created = store.create(new VolumeStore.NewVolume(spec.id(), spec.path(), spec.size(), spec.regionSize(),
                        spec.role(), config.nodeId(), spec.assumeClean()));
                LOG.info("created volume {} ({}, region size {}, {}) at {}; generation {}, initial sync {}", created.id(),
                        Sizes.format(created.size()), Sizes.format(created.regionSize()), created.role(), created.path(),
                        created.generations().current().idText(), created.initialSync().phase());
                result.add(created);
                continue;
            }
            VolumeMetadata meta;
            try {
                meta = store.load(spec.id());
            } catch (FatalException e) {
                problems.add(damagedMetadata(store, spec, config.nodeId(), "cannot be read: " + e.getMessage()));
                continue;
            }
            problems.addAll(StateDirCheck.problems(meta, "producer.volume.",
                    new StateDirCheck.Expected(spec.id(), spec.size(), (long) spec.regionSize(), spec.path())));
            String prefix = "producer.volume." + spec.id() + ".";
            if (spec.assumeClean()) {
                LOG.info("volume {}: {}assume.clean applies only when a volume is created; ignored", meta.id(), prefix);
            }
            if (meta.role() != spec.role()) {
                LOG.info("volume {} keeps its recorded role {} (configured {} applies only at creation)", meta.id(), meta.role(), spec.role());
            }
            result.add(meta);
        }
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
        return result;
    }

    /**
     * Why the facility refuses a volume whose metadata file is damaged or missing, and how to recover: the role and the
     * generation history cannot be guessed conservatively (a wrong one could copy in the wrong direction).
     */
    private static String damagedMetadata(VolumeStore store, ProducerConfig.VolumeSpec spec, String node, String cause) {
        Path file = store.metadataFile(spec.id());
        String path = spec.path() != null ? spec.path().toAbsolutePath().toString()
                : store.volumeDir(spec.id()).resolve(VolumeStore.DEFAULT_DATA_FILE).toAbsolutePath().toString();
        LOG.error("volume {}: volume metadata {} {}", spec.id(), file, cause);
        return "volume " + spec.id() + ": " + file + " " + cause + ". The facility will not guess a volume's role and generation "
                + "history. Restore the file from a backup, or move it aside and recreate it over the existing data: blockrep volume "
                + "create " + spec.id() + " --state-dir " + store.stateDir().toAbsolutePath() + " --size " + Sizes.format(spec.size())
                + " --region-size " + Sizes.format(spec.regionSize()) + " --path " + path + " --role " + spec.role() + " --node " + node
                + " (a PRIMARY then gives its peer an initial sync of every region that holds data; a SECONDARY is joined with "
                + "blockrep replay " + spec.id() + " --full)";
    }

    // ---------------------------------------------------------------- accessors and control API

    public String nodeId() {
        return config.nodeId();
    }

    /** The port the NBD server listens on (the configured one, or the one picked for port 0). */
    public int nbdPort() {
        return nbd.port();
    }

    public String nbdHost() {
        return config.nbdListen().host();
    }

    /** {@code http://HOST:PORT/metrics} when producer.metrics.listen is set. */
    public Optional<String> metricsUrl() {
        return metrics == null ? Optional.empty() : metrics.url();
    }

    public int controlPort() {
        return control.port();
    }

    /** The link listen port, or -1 when this facility runs no link server (no link secret configured). */
    public int linkPort() {
        return linkServer == null ? -1 : linkServer.port();
    }

    public List<VolumeMetadata> volumes() {
        return replicated.values().stream().map(ReplicatedVolume::metadata).toList();
    }

    /** The volume {@code id} when this side is PRIMARY for it now. */
    public Optional<ReplicatedVolume> primary(String id) {
        return volume(id).filter(v -> v.role() == Role.PRIMARY);
    }

    /** The volume {@code id}, whatever its role. */
    public Optional<ReplicatedVolume> volume(String id) {
        return Optional.ofNullable(replicated.get(id));
    }

    private static VolumeStatus.AsyncLag asyncLag(ReplicatedVolume v) {
        io.blockrep.producer.replication.MirrorLag a = v.asyncStats();
        return a == null ? null : new VolumeStatus.AsyncLag(a.lagBytes(), a.lagWrites(), a.lagSeconds(), a.highWaterBytes(),
                a.queueCapBytes(), a.overflows(), a.drops());
    }

    @Override
    public FacilityStatus status() {
        List<VolumeStatus> list = new ArrayList<>();
        for (ReplicatedVolume v : replicated.values()) {
            VolumeMetadata m = v.metadata();
            long dirty = v.dirtyRegions();
            long oldest = v.oldestDirtyMillis();
            ReplicatedVolume.PeerState peer = v.peerState();
            List<Long> pending = v.tracker() != null ? v.tracker().pendingEras() : List.of();
            list.add(new VolumeStatus(m.id(), m.role().name(), v.mode().name(), withStateDamage(m.id(), reasonWithReplayWait(v)), v.era(), dirty,
                    dirty * m.regionSize(), oldest == 0 ? null : oldest, m.size(), m.regionSize(),
                    pending, v.lastHoldMillis() < 0 ? null : v.lastHoldMillis(), replayProgress.get(m.id()),
                    new VolumeStatus.Generations(m.generations().current().idText(),
                            m.generations().entries().stream().map(Generation::idText).toList(), m.consistent()),
                    peer == null ? null : new VolumeStatus.Peer(peer.peerNode(), peer.peerRole().name(), peer.decision().name(),
                            peer.currentGeneration(), peer.detail()),
                    m.role() == Role.PRIMARY ? VolumeStatus.InitialSyncProgress.of(m.initialSync(), dirty, m.regionSize(),
                            pending, replayProgress.get(m.id())) : null, lastVerify.get(m.id()), asyncLag(v)));
        }
        String kafka = "DISABLED";
        long backlog = 0;
        if (dirtyPublisher != null) {
            PublisherStats stats = dirtyPublisher.stats();
            kafka = stats.summary();
            backlog = stats.backlogRegions();
        }
        String link = peerLink == null ? (linkServer == null ? "NONE" : "LISTENING (" + linkServer.connectionCount() + " peer)") : peerLink.state();
        return new FacilityStatus(config.nodeId(), clock.millis(), link, peerLink == null ? null : peerLink.peer(),
                kafka, backlog, list);
    }

    /**
     * The mode's reason, and while closed eras wait for a replayer that has not reported on them for
     * {@link #REPLAYER_WAIT_SHOWN}, how long: a replayer that died (before its group noticed) or none at all.
     */
    private String reasonWithReplayWait(ReplicatedVolume v) {
        long since = v.waitingForReplaySinceMillis();
        if (since < 0 || (v.mode() != Mode.RESYNCING && v.mode() != Mode.CUTOVER)) {
            return v.modeReason();
        }
        VolumeStatus.ReplayProgress p = replayProgress.get(v.name());
        long lastNews = Math.max(since, p == null ? 0 : p.reportedMillis());
        long quiet = clock.millis() - lastNews;
        return quiet < REPLAYER_WAIT_SHOWN.toMillis() ? v.modeReason()
                : v.modeReason() + "; waiting for a replayer for " + quiet / 1000 + " s (none has reported on era(s) "
                        + v.tracker().pendingEras() + ")";
    }

    private static final Duration REPLAYER_WAIT_SHOWN = Duration.ofSeconds(5);

    /** The reason, followed by what damaged state the volume's tracker found at start (see {@link #reportStateDamage}). */
    private String withStateDamage(String volume, String reason) {
        String damage = stateDamage.get(volume);
        return damage == null ? reason : reason == null || reason.isEmpty() ? damage : reason + "; " + damage;
    }

    @Override
    public RoleChange promote(String volume, boolean force) {
        ReplicatedVolume v = known(volume);
        ReplicatedVolume.PeerState peer = v.peerState();
        boolean peerConnected = peer != null && ((peerLink != null && "HEALTHY".equals(peerLink.state()))
                || (linkServer != null && linkServer.connectedFrom(peer.peerNode())));
        if (!force && peerConnected && peer.peerRole() == Role.PRIMARY) {
            throw new InvalidInputException("volume '" + volume + "': peer " + peer.peerNode() + " is connected and PRIMARY for it; "
                    + "demote it there first (blockrep demote " + volume + "), or use --force");
        }
        v.promote(force, force ? "promoted by an operator (--force)" : "promoted by an operator");
        if (peerLink != null) {
            peerLink.reconnect("volume " + volume + " promoted; offering it as PRIMARY", config.link().connectTimeout());
        }
        return new RoleChange(volume, config.nodeId(), v.role().name(), v.mode().name(), v.dirtyRegions(), v.modeReason());
    }

    @Override
    public RoleChange demote(String volume, boolean force) {
        ReplicatedVolume v = known(volume);
        int writers = nbd.writableClients(volume);
        if (writers > 0 && !force && v.role() == Role.PRIMARY) {
            throw new InvalidInputException("volume '" + volume + "': " + writers + " NBD client(s) hold the export writable; "
                    + "disconnect them first, or use --force (their writes then fail with EPERM)");
        }
        long dirty;
        try {
            dirty = v.demote(force ? "demoted by an operator (--force)" : "demoted by an operator");
        } catch (IOException e) {
            throw new FatalException("volume '" + volume + "': cannot demote: " + e.getMessage(), e);
        }
        if (peerLink != null) {
            // The peer learns the new role from the next handshake: make it now, so a promote there may follow at once.
            peerLink.reconnect("volume " + volume + " demoted; offering it as SECONDARY", config.link().connectTimeout());
        }
        String note = dirty == 0 ? "flushed; the export is read-only"
                : "flushed; the export is read-only; " + dirty + " region(s) written here are not on the peer yet";
        return new RoleChange(volume, config.nodeId(), v.role().name(), v.mode().name(), dirty, note);
    }

    @Override
    public DirtyRegions dirtyRegions(String volume) {
        ReplicatedVolume v = known(volume);
        RoaringBitmap all = v.allDirtyRegions();
        List<long[]> runs = RegionRuns.of(all);
        VolumeMetadata m = v.metadata();
        return new DirtyRegions(volume, config.nodeId(), m.role().name(), m.generations().current().idText(), m.regionSize(),
                all.getLongCardinality(), all.getLongCardinality() * m.regionSize(), runs);
    }

    @Override
    public byte[] read(String volume, long offset, int length) {
        ReplicatedVolume v = known(volume);
        if (!v.volume().geometry().contains(offset, length)) {
            throw new InvalidInputException("range [" + offset + ", +" + length + ") is outside volume '" + volume
                    + "' (size " + v.size() + ")");
        }
        ByteBuffer buf = ByteBuffer.allocate(length);
        try {
            v.volume().read(offset, buf);
        } catch (IOException e) {
            throw new FatalException("volume '" + volume + "': read failed: " + e.getMessage(), e);
        }
        return buf.array();
    }

    @Override
    public long mergeLoserRegions(String volume, List<long[]> runs, boolean fullCopy) {
        ReplicatedVolume v = known(volume);
        RoaringBitmap bitmap = new RoaringBitmap();
        long count = v.volume().geometry().regionCount();
        for (long[] r : runs) {
            if (r[1] >= count) {
                throw new InvalidInputException("volume '" + volume + "' has " + count + " regions; region " + r[1] + " does not exist");
            }
            bitmap.add(r[0], r[1] + 1);
        }
        try {
            return v.mergeLoserRegions(bitmap, fullCopy ? DirtyCause.FULL_COPY : DirtyCause.SPLIT_BRAIN);
        } catch (InvalidInputException e) {
            throw e;
        } catch (Exception e) {
            throw new FatalException("volume '" + volume + "': cannot mark the loser's regions dirty: " + e.getMessage(), e);
        }
    }

    @Override
    public long adoptForFullCopy(String volume, long generation, String sourceNode) {
        long dropped = known(volume).adoptForFullCopy(new Generation(generation, sourceNode, clock.millis()));
        if (peerLink != null) {
            peerLink.reconnect("volume " + volume + " takes a full copy", config.link().connectTimeout());
        }
        return dropped;
    }

    @Override
    public long discardOwnChanges(String volume, long common) {
        long dropped = known(volume).discardOwnChanges(common);
        if (peerLink != null) {
            // The survivor must see this side's new generation: a fresh handshake lets it attach this copy.
            peerLink.reconnect("volume " + volume + " discarded its changes", config.link().connectTimeout());
        }
        return dropped;
    }

    private ReplicatedVolume known(String volume) {
        ReplicatedVolume v = replicated.get(volume);
        if (v == null) {
            throw new InvalidInputException("facility " + config.nodeId() + " has no volume '" + volume + "'");
        }
        return v;
    }

    @Override
    public void approve(String volume) {
        replicated(volume).approve();
    }

    @Override
    public void erasReplayed(String volume, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied) {
        ReplicatedVolume v = replicated(volume);
        try {
            v.erasReplayed(regionCountByEra, copied);
        } catch (InvalidInputException e) {
            LOG.warn("{}", e.getMessage());
            throw e;
        }
    }

    @Override
    public void regionsCopied(String volume, Map<Long, RoaringBitmap> copied) {
        replicated(volume).regionsCopied(copied);
    }

    @Override
    public void verified(String volume, VolumeStatus.VerifyResult result) {
        replicated(volume);
        lastVerify.put(volume, result);
        LOG.info("{}: {} ({} regions checked by {} in {} ms)", volume, result.summary(), result.regionsChecked(), result.by(),
                result.durationMillis());
    }

    @Override
    public void replayProgress(String volume, VolumeStatus.ReplayProgress progress) {
        replicated(volume);
        replayProgress.put(volume, progress);
    }

    @Override
    public long markDiffering(String volume, List<Long> regions) {
        ReplicatedVolume v = replicated(volume);
        org.roaringbitmap.RoaringBitmap bitmap = new org.roaringbitmap.RoaringBitmap();
        long count = v.volume().geometry().regionCount();
        for (long r : regions) {
            if (r >= count) {
                throw new InvalidInputException("volume '" + volume + "' has " + count + " regions; region " + r + " does not exist");
            }
            bitmap.add((int) r);
        }
        try {
            return v.markDiffering(bitmap);
        } catch (InvalidInputException e) {
            throw e;
        } catch (Exception e) {
            throw new FatalException("volume '" + volume + "': cannot mark regions dirty: " + e.getMessage(), e);
        }
    }

    private ReplicatedVolume replicated(String volume) {
        ReplicatedVolume v = replicated.get(volume);
        if (v == null || v.tracker() == null || v.role() != Role.PRIMARY) {
            throw new InvalidInputException("facility " + config.nodeId() + " has no replicated primary volume '" + volume + "'");
        }
        return v;
    }

    @Override
    public void cutLink() {
        if (peerLink == null) {
            throw new InvalidInputException("facility " + config.nodeId() + " has no peer link to cut");
        }
        peerLink.cut();
    }

    @Override
    public void restoreLink() {
        if (peerLink == null) {
            throw new InvalidInputException("facility " + config.nodeId() + " has no peer link to restore");
        }
        peerLink.restore();
    }

    // ---------------------------------------------------------------- close

    @Override
    public void close() {
        closeQuietly(metrics);
        closeQuietly(control);
        closeQuietly(nbd);
        scheduler.shutdownNow();
        modeTimers.shutdownNow();
        for (ReplicatedVolume v : replicated.values()) {
            settleActivity(v);
        }
        closeQuietly(peerLink);
        closeQuietly(linkServer);
        closeQuietly(eventPublisher);
        closeQuietly(dirtyPublisher);
        for (int i = resources.size() - 1; i >= 0; i--) {
            AutoCloseable r = resources.get(i);
            if (r instanceof Volume v) {
                try {
                    v.flush();
                } catch (IOException e) {
                    LOG.warn("flushing volume {}: {}", v.id(), e.toString());
                }
            }
            closeQuietly(r);
        }
        io.shutdownNow();
        LOG.info("facility {} stopped", config.nodeId());
    }

    /** Before the tracker empties the activity log: the peer must confirm a flush, else hot regions become dirty. */
    private void settleActivity(ReplicatedVolume v) {
        if (v.tracker() == null || v.role() != Role.PRIMARY) {
            return;
        }
        boolean peerFlushed = false;
        if (v.mode() == Mode.REPLICATING) {
            try {
                v.volume().flush();
                peerLink.flush(v.name()).toCompletableFuture().get(config.link().ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
                peerFlushed = true;
            } catch (Exception e) {
                LOG.warn("volume {}: peer flush at stop failed ({}); hot regions become dirty", v.name(), e.toString());
            }
        }
        if (!peerFlushed) {
            v.linkDown("facility stopping");
            try {
                v.markHotDirty().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.error("volume {}: cannot mark hot regions dirty at stop ({}); they are recovered as dirty at the next start",
                        v.name(), e.toString());
                return;
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {}: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
