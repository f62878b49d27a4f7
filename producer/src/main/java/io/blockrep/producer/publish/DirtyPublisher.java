package io.blockrep.producer.publish;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.FatalException;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.registry.RegistryCodecs;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicAdmin;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.RetriableException;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox publisher: makes the dirty topic hold exactly one record per (volume, node, era, region)
 * that the local bitmaps ({@link DirtySource}) mark dirty, and an era-closed marker after the last
 * record of each closed era.
 *
 * <p>Threading: every public method is thread-safe and never waits for Kafka. {@link #firstTouch} only
 * offers to a bounded queue; when it is full the hint is dropped and the bitmaps are reconciled
 * instead. One owner thread does all Kafka work: it connects (checks topics and the partition count),
 * rebuilds what Kafka already holds by reading the volumes' partitions, sends what the bitmaps have
 * and Kafka lacks ({@code dirty \ (published ∪ inFlight)}), and handles acknowledgements, which the
 * Kafka producer's I/O thread hands over through a queue. Each pass takes the queued hints before it
 * reconciles, so a region hinted before its reconcile carries the hint's first-write time and cause.
 * A failed send, or a cluster probe (sent every reconcile interval, never waited for) that gets no answer
 * within the request timeout, puts Kafka in the unreachable state: the owner retries the connection with
 * backoff, rebuilds from the topic (a timed-out batch may have landed after all), and sends the backlog.
 * The probe is what notices a broker that went away while nothing failed to send.
 *
 * <p>Reconcile reads each volume through one atomic {@link DirtySource#snapshot()}: replay reports drop eras
 * while it runs, and it never reads an era on its own. An era that a snapshot shows dropped was replayed: its
 * regions, hints and marker are forgotten, and hints that arrive later for it are ignored.
 *
 * <p>Failures, by kind:
 * <ul>
 * <li>Kafka failures (broker down, timeouts, expired batches, a failed connect or probe) are retried as above:
 *     unreachable, reconnect with backoff up to 10 s, rebuild, send the backlog. {@link #stats()} shows UNREACHABLE.
 *     A schema registry that cannot be reached while the value codecs are first made ({@link ValueCodecs#writers()},
 *     part of connecting) is handled the same way: nothing is sent until it answers, the bitmaps keep every region.
 * <li>Fatal, the owner stops for good ({@link FatalException}): a configuration that would misplace records —
 *     the dirty topic is not compacted, its partition count changed ({@link PartitionCountGuard}), a schema registry
 *     that refuses the schemas (absent with auto-registration off, incompatible, credentials refused), or the guard's
 *     file cannot be read — and a {@link VirtualMachineError}. (A guard file that cannot be written, as on a full
 *     state directory, is retried like a Kafka failure.) Reported through
 *     {@link PublisherListener} as fatal and as FAILED in {@link #stats()}; retrying would not help.
 * <li>Anything else thrown in the owner's loop (a bug, a source that failed to read its bitmaps) restarts the
 *     loop ({@link RestartingLoop}: 0.5 s doubling to 60 s): the Kafka clients are closed and made anew, nothing
 *     counts as in flight, the published set is rebuilt from Kafka and the bitmaps are reconciled again, so what
 *     they hold is published after all. Logged at ERROR with the attempt, reported to the listener as not fatal,
 *     and shown as RESTARTING (attempt n, last error …) in {@link PublisherStats#summary()} until publishing
 *     resumes. Registered volumes, closed-era markers still due and queued hints are kept across a restart.
 * </ul>
 */
public final class DirtyPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DirtyPublisher.class);
    private static final long MAX_BACKOFF_MS = 10_000;

    private record Hint(String volume, long era, int region, long firstWriteMillis, DirtyCause cause) {
    }

    private final PublisherConfig config;
    private final ValueCodecs codecs;
    private final Clock clock;
    private final PublisherListener listener;
    private final String topic;
    private final PartitionCountGuard guard;
    private final BlockingQueue<Hint> hints;
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean hintsOverflowed = new AtomicBoolean();
    private final Thread owner;
    private volatile boolean running = true;

    private volatile boolean reachable;
    private volatile long backlog;
    private volatile Throwable lastError;
    private volatile boolean fatal;
    private final RestartingLoop restarts;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    // Owner-thread state.
    private final Map<String, VolumeOutbox> volumes = new HashMap<>();
    /** Hints taken from the queue during a reconcile, touches recorded, still to be applied. */
    private final List<Hint> recorded = new ArrayList<>();
    private Admin admin;
    private KafkaProducer<byte[], byte[]> producer;
    /** The writers' codecs, once the registry (if any) answered. */
    private RegistryCodecs writing;
    private boolean connected;
    private int partitions;
    private long nextConnectMillis;
    private long backoffMillis = 250;
    private long nextReconcileMillis;
    private KafkaFuture<String> probe;
    private long nextProbeMillis;
    /** Counts restarts of the loop; a failure reported by a callback of an earlier session's clients is ignored. */
    private int session;

    private DirtyPublisher(PublisherConfig config, ValueCodecs codecs, Clock clock, PublisherListener listener) {
        this.config = config;
        this.codecs = codecs;
        this.clock = clock;
        this.listener = listener;
        this.topic = config.topics().dirty();
        this.guard = new PartitionCountGuard(config.stateDir());
        this.hints = new ArrayBlockingQueue<>(config.hintQueueCapacity());
        this.restarts = new RestartingLoop("dirty publisher", clock, new RestartingLoop.Owner() {
            @Override
            public void reset(Throwable cause) {
                restartAfter(cause);
                try {
                    listener.onRestart("dirty publisher", cause, restarts.stats().attempt());
                } catch (RuntimeException le) {
                    LOG.warn("publisher listener failed", le);
                }
            }

            @Override
            public void stopped(Throwable cause) {
                fatal = true;
                lastError = cause;
                LOG.error("dirty publisher stopped", cause);
                notifyListener(cause, true);
            }

            @Override
            public boolean await(long millis) {
                long until = clock.millis() + millis;
                for (long now = clock.millis(); running && now < until; now = clock.millis()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(until - now, 1_000)));
                }
                return running;
            }
        });
        this.owner = new Thread(this::run, "blockrep-dirty-publisher-" + config.node());
        this.owner.setDaemon(true);
    }

    /** Starts the owner thread; it connects in the background, so this returns even when Kafka is down. */
    public static DirtyPublisher start(PublisherConfig config, Clock clock, PublisherListener listener) {
        return start(config, ValueCodecs.withoutRegistry(), clock, listener);
    }

    /** As {@link #start(PublisherConfig, Clock, PublisherListener)}, values encoded and read with {@code codecs}. */
    public static DirtyPublisher start(PublisherConfig config, ValueCodecs codecs, Clock clock, PublisherListener listener) {
        DirtyPublisher p = new DirtyPublisher(config, codecs, clock, listener);
        p.owner.start();
        return p;
    }

    /** Adds a volume; its published set is rebuilt from Kafka before anything of it is sent. */
    public void register(DirtySource source) {
        String volume = source.volume();
        command(() -> volumes.computeIfAbsent(volume,
                v -> new VolumeOutbox(source, partitions > 0 ? TopicLayout.partitionFor(v, partitions) : -1)));
    }

    /**
     * The write path's hint that {@code region} of {@code volume} was first written in {@code era}; its bit
     * must already be set in the source. Never blocks: on a full queue the hint is dropped and counted,
     * and the region is published from the bitmap by the next reconcile.
     */
    public void firstTouch(String volume, long era, long region, long firstWriteMillis, DirtyCause cause) {
        if (region < 0 || region > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("region out of range: " + region);
        }
        if (!hints.offer(new Hint(volume, era, (int) region, firstWriteMillis, cause))) {
            dropped.incrementAndGet();
            hintsOverflowed.set(true);
        }
        LockSupport.unpark(owner);
    }

    /**
     * Era {@code era} of {@code volume} takes no more regions. Its marker, carrying {@code regionCount},
     * is sent once every region of the era in the source is acknowledged, so it follows them in the partition.
     */
    public void eraClosed(String volume, long era, long regionCount) {
        long now = clock.millis();
        command(() -> {
            VolumeOutbox v = volumes.get(volume);
            if (v == null) {
                LOG.warn("era {} of unregistered volume {} closed; no marker sent", era, volume);
                return;
            }
            if (v.gone(era)) {
                LOG.debug("era {} of {} closed and already replayed; no marker sent", era, volume);
                return;
            }
            EraOutbox e = v.era(era);
            e.closedRegionCount = regionCount;
            e.closedMillis = now;
            v.reconcileDue = true;
        });
    }

    /**
     * Regions of a pending era that the source's bitmap holds but a replay report did not cover (their
     * records were tombstoned by someone else, or lost): their records are published again, so the
     * replayer sees them live and copies them. The era's marker was sent already; the replayer copies
     * whatever is live in a closed era when it steps, so order does not matter here.
     */
    public void republish(String volume, long era, RoaringBitmap regions) {
        RoaringBitmap again = regions.clone();
        command(() -> {
            VolumeOutbox v = volumes.get(volume);
            if (v == null || v.gone(era)) {
                return;
            }
            EraOutbox e = v.era(era);
            e.published.andNot(again);
            e.dirty.or(again);
            v.reconcileDue = true;
            LOG.warn("volume {}: {} region(s) of era {} are dirty here but were not reported copied; their records are published again",
                    volume, again.getLongCardinality(), era);
        });
    }

    public boolean kafkaReachable() {
        return reachable;
    }

    public Optional<Throwable> lastError() {
        return Optional.ofNullable(lastError);
    }

    public PublisherStats stats() {
        return new PublisherStats(reachable, backlog, sent.get(), acked.get(), dropped.get(), lastError(), fatal,
                restarts.stats());
    }

    /** Stops the owner thread, giving records in flight up to {@code maxBlock} to be acknowledged. Unsent bits stay in the bitmaps. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(owner);
        try {
            owner.join(config.maxBlock().toMillis() + config.requestTimeout().toMillis() + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (owner.isAlive()) {
            LOG.warn("dirty publisher thread did not stop in time");
        }
    }

    private void command(Runnable r) {
        commands.add(r);
        LockSupport.unpark(owner);
    }

    // ---- owner thread ----

    /** The owner thread: runs the loop, restarting it after a failure that is not fatal (see the class comment). */
    private void run() {
        try {
            restarts.run(this::loop);
        } finally {
            reachable = false;
            closeClients(config.maxBlock());
        }
    }

    private void loop() {
        while (running) {
            if (!connected && clock.millis() >= nextConnectMillis) {
                connect();
            }
            if (connected) {
                rebuildWhereNeeded();
            }
            // After the blocking calls above and before any reconcile: a reconcile that ran ahead of the hints
            // queued meanwhile would publish their regions from the bitmap, without first-write time and cause.
            takeCommandsAndHints();
            if (connected) {
                reconcileDue();
                sendDueMarkers();
                probe();
            }
            backlog = volumes.values().stream().mapToLong(VolumeOutbox::backlog).sum();
            if (commands.isEmpty() && hints.isEmpty() && recorded.isEmpty()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(waitMillis()));
            }
        }
    }

    /**
     * The loop threw: drop the Kafka clients and everything in flight; after the backoff the loop connects,
     * rebuilds and reconciles as after a start. Registered volumes, due markers and hints stay.
     */
    private void restartAfter(Throwable e) {
        lastError = e;
        reachable = false;
        notifyListener(e, false);
        session++;
        connected = false;
        probe = null;
        closeClients(Duration.ZERO);
        producer = null;
        admin = null;
        volumes.values().forEach(VolumeOutbox::restarted);
        backoffMillis = 250;
        nextConnectMillis = clock.millis();
    }

    /** A listener that throws must not take the owner thread with it. */
    private void notifyListener(Throwable e, boolean isFatal) {
        try {
            listener.onFailure(e, isFatal);
        } catch (RuntimeException le) {
            LOG.warn("publisher listener failed", le);
        }
    }

    private long waitMillis() {
        long now = clock.millis();
        long until = connected ? Math.min(nextReconcileMillis, probe == null ? nextProbeMillis : Long.MAX_VALUE) : nextConnectMillis;
        return Math.max(1, Math.min(until - now, 1_000));
    }

    private void runCommands() {
        Runnable r;
        while ((r = commands.poll()) != null) {
            r.run();
        }
    }

    /**
     * Takes the queued hints, then runs the queued commands, then applies the hints. In that order a hint
     * never finds its volume missing: a caller registers a volume before it hints, so the register command
     * of any hint taken here is already queued.
     */
    private void takeCommandsAndHints() {
        boolean overflowed = hintsOverflowed.getAndSet(false);
        List<Hint> batch = new ArrayList<>(recorded);
        recorded.clear();
        hints.drainTo(batch);
        runCommands();
        if (overflowed) {
            volumes.values().forEach(v -> v.reconcileDue = true);
        }
        boolean sending = true;
        for (Hint h : batch) {
            VolumeOutbox v = volumes.get(h.volume());
            if (v == null) {
                LOG.debug("hint for unregistered volume {} ignored", h.volume());
                continue;
            }
            if (v.gone(h.era())) {
                continue; // a hint that came after its era was replayed and dropped
            }
            EraOutbox e = v.era(h.era());
            e.hint(h.region(), h.firstWriteMillis(), h.cause());
            // After a failed send keep recording the batch's touches; the regions go out after the next connect.
            if (sending && connected && v.rebuilt && e.needsSending(h.region())) {
                sending = sendRegion(v, e, h.region());
            }
        }
    }

    /**
     * Records the touches of the queued hints without sending anything or running commands (safe in the
     * middle of a reconcile); the hints are kept for the next {@link #takeCommandsAndHints}, which sends
     * their regions if still needed and handles hints of volumes not registered yet.
     */
    private void recordQueuedHints() {
        int from = recorded.size();
        hints.drainTo(recorded);
        for (Hint h : recorded.subList(from, recorded.size())) {
            VolumeOutbox v = volumes.get(h.volume());
            if (v != null && !v.gone(h.era())) {
                v.era(h.era()).hint(h.region(), h.firstWriteMillis(), h.cause());
            }
        }
    }

    private void connect() {
        try {
            if (admin == null) {
                admin = Admin.create(KafkaClients.admin(config, "blockrep-" + config.node() + "-dirty-admin"));
            }
            int found = TopicAdmin.ensureTopics(admin, config.topics().prefix(), config.partitions(), config.replicationFactor());
            guard.check(topic, found);
            partitions = found;
            writing = codecs.writers();
            if (producer == null) {
                producer = new KafkaProducer<>(KafkaClients.producer(config, "blockrep-" + config.node() + "-dirty"));
            }
            connected = true;
            if (volumes.isEmpty()) {
                publishing(); // otherwise once the volumes are rebuilt: reachable means ready to publish
            }
            nextProbeMillis = clock.millis() + config.reconcileInterval().toMillis();
            volumes.replaceAll((id, v) -> relocated(v));
        } catch (io.blockrep.common.RetriableException | KafkaException e) {
            failed(e);
        }
    }

    private VolumeOutbox relocated(VolumeOutbox v) {
        int p = TopicLayout.partitionFor(v.source.volume(), partitions);
        return p == v.partition ? v : v.movedTo(p);
    }

    private void rebuildWhereNeeded() {
        Set<Integer> parts = new HashSet<>();
        Set<String> ids = new HashSet<>();
        volumes.values().stream().filter(v -> !v.rebuilt).forEach(v -> {
            parts.add(v.partition);
            ids.add(v.source.volume());
        });
        if (ids.isEmpty()) {
            return;
        }
        try {
            PublishedRebuild rebuild = new PublishedRebuild(KafkaClients.consumer(config, "blockrep-" + config.node() + "-rebuild"),
                    topic, config.node(), config.requestTimeout(), clock, codecs.readers());
            Map<String, Map<Long, PublishedRebuild.Held>> held = rebuild.read(parts, ids);
            for (String id : ids) {
                VolumeOutbox v = volumes.get(id);
                held.getOrDefault(id, Map.of()).forEach((era, h) -> {
                    EraOutbox e = v.era(era);
                    e.published.or(h.regions);
                    e.published.andNot(e.inFlight);
                    e.markerPublished |= h.marker;
                });
                v.rebuilt = true;
                v.reconcileDue = true;
            }
            publishing();
            backoffMillis = 250;
            LOG.info("rebuilt published regions of {} volume(s) from {} partitions {}", ids.size(), topic, parts);
        } catch (io.blockrep.common.RetriableException | KafkaException e) {
            failed(e);
        }
    }

    /** Kafka is reachable and the volumes are rebuilt: records go out again. Ends a restart. */
    private void publishing() {
        reachable = true;
        restarts.recovered();
    }

    private void reconcileDue() {
        boolean periodic = clock.millis() >= nextReconcileMillis;
        if (periodic) {
            nextReconcileMillis = clock.millis() + config.reconcileInterval().toMillis();
        }
        for (VolumeOutbox v : volumes.values()) {
            if (!connected) {
                return;
            }
            if (v.rebuilt && (periodic || v.reconcileDue)) {
                v.reconcileDue = false;
                reconcile(v);
            }
        }
    }

    /**
     * Sends what the bitmaps have and Kafka lacks. The hints queued when the bitmaps have been read are
     * recorded before anything is sent: a hint is offered after its bit is set, so every region whose hint
     * came before the read goes out with the hint's first-write time and cause. The bitmaps are read in one
     * atomic snapshot: an era dropped after it is only sent from the snapshot (a record the replayer copies
     * once more, harmless), never read again.
     */
    private void reconcile(VolumeOutbox v) {
        Set<Long> live = v.apply(v.source.snapshot());
        recordQueuedHints();
        for (long era : live) {
            EraOutbox e = v.era(era);
            for (int region : e.unsent()) {
                if (!sendRegion(v, e, region)) {
                    return;
                }
            }
        }
        v.eras.values().removeIf(e -> !live.contains(e.era) && e.idle());
    }

    private boolean sendRegion(VolumeOutbox v, EraOutbox e, int region) {
        long regionNo = Integer.toUnsignedLong(region);
        EraOutbox.Touch t = e.touches.get(region);
        DirtyRegion value = new DirtyRegion(t != null ? t.firstWriteMillis() : clock.millis(), v.source.regionSize(),
                v.source.volumeSize(), t != null ? t.cause() : DirtyCause.UNKNOWN);
        DirtyKey key = DirtyKey.region(v.source.volume(), config.node(), e.era, regionNo);
        String volume = v.source.volume();
        long era = e.era;
        e.inFlight.add(region);
        return send(v.partition, key, writing.dirtyRegion().encode(value), ex -> onRegionAck(volume, era, region, ex), () -> e.inFlight.remove(region));
    }

    private void sendDueMarkers() {
        for (VolumeOutbox v : volumes.values()) {
            for (EraOutbox e : v.eras.values()) {
                if (connected && v.rebuilt && e.markerDue()) {
                    String volume = v.source.volume();
                    long era = e.era;
                    e.markerInFlight = true;
                    byte[] value = writing.eraClosed().encode(new EraClosed(e.closedMillis, e.closedRegionCount));
                    send(v.partition, DirtyKey.eraClosed(volume, config.node(), era), value,
                            ex -> onMarkerAck(volume, era, ex), () -> e.markerInFlight = false);
                }
            }
        }
    }

    /**
     * Hands one record to the Kafka producer; false when Kafka failed, so that the caller stops sending.
     *
     * <p>Without metadata for the topic (the broker went away and the producer forgot it), the producer
     * blocks for up to {@code max.block.ms} and then returns an already failed future rather than throwing.
     * Sending on after that would block this thread once per record, with acknowledgements, failures and
     * the probe unattended, so such a failure counts at once. The in-flight mark is not undone here: the
     * record's callback has the failure too and undoes it, and undoing it twice could clear the mark of a
     * later send of the same region.
     */
    private boolean send(int partition, DirtyKey key, byte[] value, java.util.function.Consumer<Exception> onAck, Runnable undo) {
        Future<RecordMetadata> future;
        try {
            int s = session;
            future = producer.send(new ProducerRecord<>(topic, partition, key.bytes(), value), (md, ex) -> command(() -> {
                if (ex == null || s == session) {
                    onAck.accept(ex);
                }
            }));
        } catch (KafkaException | IllegalStateException e) {
            undo.run();
            failed(e);
            return false;
        }
        Throwable early = failure(future);
        if (early != null) {
            failed(early);
            return false;
        }
        sent.incrementAndGet();
        return true;
    }

    /** The failure of a future that is already done, or null. */
    private static Throwable failure(Future<?> future) {
        if (!future.isDone()) {
            return null;
        }
        try {
            future.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }

    private void onRegionAck(String volume, long era, int region, Exception ex) {
        VolumeOutbox v = volumes.get(volume);
        EraOutbox e = v == null ? null : v.eras.get(era);
        if (e == null) {
            return;
        }
        if (ex == null) {
            e.acked(region);
            acked.incrementAndGet();
        } else {
            e.inFlight.remove(region);
            failed(ex);
        }
    }

    private void onMarkerAck(String volume, long era, Exception ex) {
        VolumeOutbox v = volumes.get(volume);
        EraOutbox e = v == null ? null : v.eras.get(era);
        if (e == null) {
            return;
        }
        e.markerInFlight = false;
        if (ex == null) {
            e.markerPublished = true;
            acked.incrementAndGet();
            LOG.info("era {} of {} closed in {} ({} regions)", era, volume, topic, e.closedRegionCount);
        } else {
            failed(ex);
        }
    }

    /**
     * Notices a broker that went away while nothing fails to send: when the publisher is idle, or when the
     * Kafka producer holds its batches without expiring them (an idempotent producer waiting for a producer
     * id does). Every reconcile interval, a cluster description is requested, bounded by the request
     * timeout; it is checked here without waiting, so the owner thread never blocks on it.
     */
    private void probe() {
        if (probe == null) {
            if (clock.millis() >= nextProbeMillis) {
                probe = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE,
                        config.requestTimeout().toMillis()))).clusterId();
                probe.whenComplete((id, ex) -> LockSupport.unpark(owner));
            }
            return;
        }
        if (!probe.isDone()) {
            return;
        }
        Throwable e = failure(probe);
        probe = null;
        nextProbeMillis = clock.millis() + config.reconcileInterval().toMillis();
        if (e != null) {
            failed(new io.blockrep.common.RetriableException("Kafka did not answer a cluster probe: " + e, e));
        }
    }

    /**
     * Any Kafka failure: remember it, drop to unreachable (rebuild before sending again) and schedule a
     * connect. The listener hears of the drop and of failed connects, not of every expired record.
     */
    private void failed(Throwable e) {
        if (e instanceof FatalException f) {
            throw f;
        }
        lastError = e;
        boolean wasConnected = connected;
        connected = false;
        reachable = false;
        probe = null;
        volumes.values().forEach(v -> v.rebuilt = false);
        if (!(e instanceof RetriableException) && !(e instanceof BlockrepException) && producer != null) {
            producer.close(Duration.ZERO);
            producer = null;
        }
        if (wasConnected) {
            LOG.warn("Kafka unreachable for the dirty publisher, logging on to the bitmaps: {}", e.toString());
            backoffMillis = 250;
            nextConnectMillis = clock.millis() + backoffMillis;
            listener.onFailure(e, false);
        } else if (clock.millis() >= nextConnectMillis) {
            LOG.debug("connecting to Kafka failed: {}", e.toString());
            nextConnectMillis = clock.millis() + backoffMillis;
            backoffMillis = Math.min(MAX_BACKOFF_MS, backoffMillis * 2);
            listener.onFailure(e, false);
        }
    }

    private void closeClients(Duration timeout) {
        if (producer != null) {
            try {
                producer.close(timeout);
            } catch (RuntimeException e) {
                LOG.debug("closing producer", e);
            }
        }
        if (admin != null) {
            try {
                admin.close(Duration.ZERO);
            } catch (RuntimeException e) {
                LOG.debug("closing admin client", e);
            }
        }
    }
}
