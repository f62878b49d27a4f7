package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.MarkResult;
import io.blockrep.producer.dirty.RegionRuns;
import io.blockrep.producer.nbd.NbdExport;
import io.blockrep.producer.nbd.ReadOnlyExportException;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary side of one volume: serves it over NBD and decides, per write, between mirroring
 * (REPLICATING) and logging (LOGGING).
 *
 * <p>Write path. REPLICATING: the write's regions are made hot in the activity log (durably, unless
 * already hot), then written locally and sent to the peer in parallel; the client is acknowledged
 * when both are done. If the peer's copy fails (link down, ack timeout), the regions are marked
 * dirty durably <em>before</em> the acknowledgement is released, so the client still sees success.
 * LOGGING: the regions are marked dirty durably (a no-op for regions already dirty in the open era),
 * then written locally. A local write that fails after the peer's copy succeeded leaves the sides
 * different: its regions are marked dirty and the client gets EIO. Writes inside excluded ranges
 * are never marked (the tracker filters them).
 *
 * <p>Modes. Admission of each write takes the mode under {@code modeLock} and counts the write in
 * flight. A switch to REPLICATING holds new admissions, waits until no write is in flight, and
 * switches only when nothing is dirty (otherwise a resync must run first); so no write logged
 * under LOGGING can slip past the check. A link failure switches to LOGGING at once; the writes in
 * flight at that moment are marked dirty by their own failure path.
 *
 * <p>Activity log. {@link #checkpointActivity()} cools hot regions that had no write in flight or
 * admitted since the checkpoint started, after both sides were flushed.
 *
 * <p>Thread-safety: all public methods may be called from any thread.
 */
public final class ReplicatedVolume implements NbdExport {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedVolume.class);
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final Volume volume;
    private final VolumeHandle handle;
    private final String node;
    private final DirtyTracker tracker;
    private final ReplicaSink sink;
    private final VolumeObserver observer;
    private final Clock clock;
    private final Executor io;
    private final RegionGeometry geometry;

    private final ResyncPolicy policy;
    private final ScheduledExecutorService timer;
    private final Runnable reoffer;

    private final Object modeLock = new Object();
    private Mode mode;
    private long cutoverEra = -1;
    private long holdStartedMillis;
    private volatile long lastHoldMillis = -1;
    private ScheduledFuture<?> holdTimer;
    private String modeReason = "";
    private boolean holding;
    /** Writes admitted and not yet completed. Decremented without modeLock: completions may run on a flusher thread. */
    private final AtomicLong inFlight = new AtomicLong();

    private final Object activityLock = new Object();
    private final ConcurrentHashMap<Long, Integer> hotInFlight = new ConcurrentHashMap<>();
    private RoaringBitmap touchedSinceCheckpoint = new RoaringBitmap();
    private volatile long oldestDirtyMillis;
    private volatile PeerState peerState;
    /** The peer refused to attach this volume at the last handshake of this side's link. */
    private volatile boolean refusedByPeer;

    /**
     * @param tracker null for a STANDALONE volume (no peer): writes are then neither mirrored nor tracked
     * @param sink    null for a STANDALONE volume
     * @param io      runs continuations that must not run on a bitmap flusher thread
     */
    /**
     * When and how a dirty volume resynchronises. {@code cutoverRegions}: writes are held for the final
     * era once the open era has at most this many dirty regions (or no fewer than the era just copied);
     * {@code holdTimeout}: the longest hold before the cutover is aborted and writes are released in LOGGING.
     */
    public record ResyncPolicy(boolean autosync, long cutoverRegions, Duration holdTimeout) {
        public static final ResyncPolicy DEFAULT = new ResyncPolicy(true, 16, Duration.ofSeconds(2));
    }

    /**
     * What the replication side needs besides the volume: this facility's node id (it names the
     * generations it makes), the clock, an I/O executor, a timer, the resync policy, and
     * {@code reoffer}, run when this side changed its role by itself so that the link offers the
     * new role to the peer (a new handshake).
     */
    public record Services(String node, Clock clock, Executor io, ScheduledExecutorService timer, ResyncPolicy policy,
                           Runnable reoffer) {
        public Services(String node, Clock clock, Executor io, ScheduledExecutorService timer, ResyncPolicy policy) {
            this(node, clock, io, timer, policy, () -> { });
        }
    }

    /**
     * How the peer last described its copy of this volume (at a handshake in either direction) and
     * what the comparison of generation histories decided, as this side sees it.
     */
    public record PeerState(String peerNode, Role peerRole, SyncDecision decision, String currentGeneration, String detail) {
    }

    public ReplicatedVolume(VolumeHandle handle, DirtyTracker tracker, ReplicaSink sink, VolumeObserver observer, Services services) {
        if ((tracker == null) != (sink == null)) {
            throw new IllegalArgumentException("tracker and sink are both set (replicated) or both null (standalone)");
        }
        this.handle = handle;
        this.volume = handle.volume();
        this.node = services.node();
        this.tracker = tracker;
        this.sink = sink;
        this.observer = observer;
        this.clock = services.clock();
        this.io = services.io();
        this.timer = services.timer();
        this.policy = services.policy();
        this.reoffer = services.reoffer();
        this.geometry = volume.geometry();
        if (role() == Role.SECONDARY) {
            this.mode = Mode.SECONDARY;
            this.modeReason = "the peer's copy; written only over the link";
        } else {
            this.mode = sink == null ? Mode.STANDALONE : Mode.LOGGING;
            this.modeReason = sink == null ? "no peer configured" : "waiting for the link";
        }
        if (tracker != null && tracker.dirtyRegionCount() > 0) {
            oldestDirtyMillis = clock.millis();
            if (role() == Role.PRIMARY) {
                // Regions dirty at start (a backlog, hot regions after a crash) may be missing on the
                // peer: this copy has data the peer lacks, so it must not share the peer's generation.
                divergeIfShared();
            }
        }
    }

    // ---------------------------------------------------------------- NbdExport

    @Override
    public String name() {
        return volume.id();
    }

    @Override
    public long size() {
        return volume.size();
    }

    /** True while this side is SECONDARY: NBD clients may read, only the link writes. */
    @Override
    public boolean readOnly() {
        return role() == Role.SECONDARY;
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return run(() -> volume.read(offset, dst));
    }

    @Override
    public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        int length = data.remaining();
        if (!geometry.contains(offset, length)) {
            return CompletableFuture.failedFuture(rangeError(offset, length));
        }
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return admitted(offset, length, m -> m == Mode.SECONDARY ? readOnlyRefusal()
                : m == Mode.REPLICATING
                ? mirrored(offset, length, () -> localWrite(offset, data.duplicate(), fua), () -> sink.write(name(), offset, data.duplicate(), fua))
                : logged(offset, length, () -> localWrite(offset, data.duplicate(), fua)));
    }

    @Override
    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        if (!geometry.contains(offset, length)) {
            return CompletableFuture.failedFuture(rangeError(offset, length));
        }
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return admitted(offset, length, m -> m == Mode.SECONDARY ? readOnlyRefusal()
                : m == Mode.REPLICATING
                ? mirrored(offset, length, () -> localZeroes(offset, length, fua), () -> remoteZeroes(offset, length, fua))
                : logged(offset, length, () -> localZeroes(offset, length, fua)));
    }

    /** TRIM keeps the data (see {@link Volume#trim}), so there is nothing to mirror or mark. */
    @Override
    public CompletionStage<Void> trim(long offset, long length) {
        if (readOnly()) {
            return readOnlyRefusal();
        }
        return run(() -> volume.trim(offset, length));
    }

    private CompletionStage<Void> readOnlyRefusal() {
        return CompletableFuture.failedFuture(new ReadOnlyExportException("volume '" + name()
                + "' is SECONDARY here and refuses writes (it was demoted)"));
    }

    @Override
    public CompletionStage<Void> flush() {
        Mode m = currentMode();
        CompletableFuture<Void> local = run(volume::flush);
        if (m != Mode.REPLICATING) {
            return local;
        }
        // FLUSH means durable on both sides. If the peer cannot confirm it, the regions written
        // since the last activity checkpoint (the hot ones) may not be durable there: they become
        // dirty before the flush completes, so a resync makes them so.
        CompletableFuture<Void> remote = sink.flush(name()).toCompletableFuture()
                .handle((v, e) -> e)
                .thenCompose(e -> {
                    if (e == null) {
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    LOG.info("volume {}: peer flush failed ({}); hot regions become dirty", name(), unwrap(e).toString());
                    return markHotDirty();
                });
        return CompletableFuture.allOf(local, remote);
    }

    // ---------------------------------------------------------------- modes

    public Mode mode() {
        return currentMode();
    }

    public String modeReason() {
        synchronized (modeLock) {
            return modeReason;
        }
    }

    /**
     * The link failed: switch to LOGGING; a resync or cutover in progress stops, and held writes are
     * released. Writes in flight to the peer are marked dirty by their own failure path before they
     * are acknowledged. Writes the peer already acknowledged are not marked: the peer applied them.
     * (A power loss of the peer that drops writes it acknowledged but had not flushed is not seen
     * here; run {@code blockrep verify} after one.)
     */
    public void linkDown(String reason) {
        if (sink == null) {
            return;
        }
        synchronized (modeLock) {
            if (mode == Mode.LOGGING || mode == Mode.STANDALONE || mode == Mode.SECONDARY || mode == Mode.SPLIT_BRAIN) {
                return;
            }
            endHold();
            setMode(Mode.LOGGING, "link down: " + reason);
        }
    }

    /** Marks every hot region of the activity log dirty (cause IN_FLIGHT); completes when all are durable. */
    public CompletableFuture<Void> markHotDirty() {
        if (tracker == null) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<MarkResult>> marks = new ArrayList<>();
        tracker.activity().hotRegions().forEach((int region) -> marks.add(
                markRegions(Integer.toUnsignedLong(region), Integer.toUnsignedLong(region), DirtyCause.IN_FLIGHT).toCompletableFuture()));
        return CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new));
    }

    /**
     * The link is healthy again; {@code peer} is how the handshake went for this volume. A PRIMARY
     * whose peer attached it holds new writes, waits until none is in flight, then: nothing dirty
     * → REPLICATING; dirty and autosync → RESYNCING; dirty without autosync → AWAITING_APPROVAL.
     * A peer that did not attach it decides by the generation histories: split brain →
     * SPLIT_BRAIN (keeps logging); the peer newer and PRIMARY while this side has no write of its
     * own since their common generation → this side becomes SECONDARY (its copy is resynced from
     * the peer); anything else stays LOGGING with the peer's reason.
     */
    public void linkRestored(PeerView peer) {
        if (sink == null) {
            return;
        }
        synchronized (modeLock) {
            if (peer.info() != null) {
                recordPeer(peer.peerNode(), peer.info().role(), peer.info().history(), peer.attachStatus() + " " + peer.attachMessage());
            }
            if (mode != Mode.LOGGING && mode != Mode.SPLIT_BRAIN) {
                return;
            }
            refusedByPeer = !peer.attached();
            if (!peer.attached()) {
                notAttached(peer);
                return;
            }
            holding = true;
            try {
                drainInFlight();
                long dirty = tracker.dirtyRegionCount();
                if (dirty == 0) {
                    setMode(Mode.REPLICATING, "link restored, replica in sync");
                    enteredReplicating();
                } else if (policy.autosync()) {
                    beginResync("link restored with " + dirty + " dirty region(s); autosync");
                } else {
                    setMode(Mode.AWAITING_APPROVAL, "link restored with " + dirty + " dirty region(s); waiting for blockrep approve");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                holding = false;
                modeLock.notifyAll();
            }
        }
    }

    /** The peer did not attach this volume. Holds modeLock. */
    private void notAttached(PeerView peer) {
        PeerState state = peerState;
        SyncDecision decision = state == null || peer.info() == null ? null : state.decision();
        String why = peer.attachMessage().isEmpty() ? String.valueOf(peer.attachStatus()) : peer.attachMessage();
        if (decision == SyncDecision.SPLIT_BRAIN) {
            if (mode != Mode.SPLIT_BRAIN) {
                setMode(Mode.SPLIT_BRAIN, "split brain with " + peer.peerNode() + ": both sides took writes since their last common "
                        + "generation; nothing is copied until blockrep resolve " + name() + " --primary NODE");
            }
        } else if (decision == SyncDecision.PEER_NEWER && peer.info().role() == Role.PRIMARY && handle.metadata().generations().shared()
                && tracker.dirtyRegionCount() == 0) {
            becomeSecondary("peer " + peer.peerNode() + " is PRIMARY with newer data (generation " + state.currentGeneration()
                    + "); this copy took no write since and becomes its resync target");
            io.execute(reoffer); // the peer attaches this copy once it sees it SECONDARY
        } else {
            modeReason = "peer " + peer.peerNode() + " did not attach it: " + why;
            LOG.warn("volume {}: {}", name(), modeReason);
        }
    }

    /** Remembers how the peer described its copy and what the generations decide. */
    public void recordPeer(String peerNode, Role peerRole, List<Generation> peerHistory, String detail) {
        if (peerHistory.isEmpty()) {
            return;
        }
        GenerationHistory theirs = new GenerationHistory(peerHistory, peerHistory.get(0).generationId(), true);
        SyncDecision decision = SyncDecision.decide(handle.metadata().generations(), theirs);
        PeerState previous = peerState;
        peerState = new PeerState(peerNode, peerRole, decision, theirs.current().idText(), detail.trim());
        if (previous == null || previous.decision() != decision) {
            LOG.info("volume {}: generations compared with {} ({} {}): {}", name(), peerNode, peerRole, theirs.current().idText(), decision);
            observer.syncDecided(name(), peerNode, decision, detail.trim());
        }
    }

    public PeerState peerState() {
        return peerState;
    }

    /** Both copies are at {@code current} now (the secondary adopted the primary's history): the comparison is SAME. */
    private void peerHolds(Generation current) {
        PeerState p = peerState;
        if (p != null) {
            peerState = new PeerState(p.peerNode(), p.peerRole(), SyncDecision.SAME, current.idText(), "in sync");
        }
    }

    /** True when the peer refused to attach this volume at the last handshake of this side's own link. */
    public boolean refusedByPeer() {
        return refusedByPeer;
    }

    /** An operator approved the resync of a volume in AWAITING_APPROVAL. */
    public void approve() {
        synchronized (modeLock) {
            if (mode != Mode.AWAITING_APPROVAL) {
                throw new InvalidInputException("volume '" + name() + "' is " + mode + ", not AWAITING_APPROVAL");
            }
            beginResync("approved by an operator");
        }
    }

    /** RESYNCING: re-announce eras closed earlier (a restart may have lost their markers), then close the open era. Holds modeLock. */
    private void beginResync(String reason) {
        setMode(Mode.RESYNCING, reason);
        // The peer's copy becomes a mix of old and new until the cutover: it must know before the first data set.
        sink.generation(name(), false, handle.metadata().generations().entries())
                .whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.info("volume {}: could not mark the peer's copy inconsistent: {}", name(), unwrap(e).toString());
                    }
                });
        for (long era : tracker.pendingEras()) {
            observer.eraClosed(name(), era, tracker.dirtyRegions(era).getLongCardinality());
        }
        closeEraAndAnnounce();
    }

    private long closeEraAndAnnounce() {
        long closed = tracker.closeEra();
        long count = tracker.dirtyRegions(closed).getLongCardinality();
        LOG.info("volume {}: era {} closed with {} dirty region(s); era {} open", name(), closed, count, tracker.openEra());
        observer.eraClosed(name(), closed, count);
        return closed;
    }

    /**
     * The replayer copied every live region of every era up to {@code era} to the peer. Drops those
     * eras, then: more closed eras pending → wait; the open era small enough → CUTOVER (hold writes,
     * close the last era); else close the open era and go on. In CUTOVER, the last era's replay
     * switches the volume to REPLICATING and releases the held writes.
     */
    public void erasReplayed(long era) {
        if (tracker == null) {
            throw new InvalidInputException("volume '" + name() + "' is not replicated");
        }
        synchronized (modeLock) {
            if (era >= tracker.openEra()) {
                throw new InvalidInputException("volume '" + name() + "': era " + era + " is still open (open era " + tracker.openEra() + ")");
            }
            RoaringBitmap copied = new RoaringBitmap();
            for (long e : tracker.pendingEras()) {
                if (e <= era) {
                    copied.or(tracker.dirtyRegions(e));
                    tracker.dropEra(e);
                }
            }
            if (!tracker.pendingEras().isEmpty()) {
                return;
            }
            try {
                if (mode == Mode.RESYNCING) {
                    long open = tracker.dirtyRegions(tracker.openEra()).getLongCardinality();
                    // Cut over once the last era will be small, or once another pass would not make it
                    // smaller (the applications dirty regions as fast as they are copied): the hold then
                    // lasts longer, but the resync ends.
                    if (open <= policy.cutoverRegions() || open >= copied.getLongCardinality()) {
                        startCutover(open);
                    } else {
                        closeEraAndAnnounce();
                    }
                } else if (mode == Mode.CUTOVER && era >= cutoverEra && tracker.dirtyRegionCount() == 0) {
                    endHold();
                    setMode(Mode.REPLICATING, "cutover complete; writes held " + lastHoldMillis + " ms");
                    enteredReplicating();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Regions found to differ from the replica (by {@code blockrep verify}): marks them dirty and, if
     * the volume was REPLICATING, starts a resync so the replayer repairs them. Returns how many
     * regions were newly marked in the open era.
     */
    public long markDiffering(RoaringBitmap regions) throws Exception {
        long marked = markAll(regions, DirtyCause.VERIFY_MISMATCH);
        synchronized (modeLock) {
            if (mode == Mode.REPLICATING && !regions.isEmpty()) {
                beginResync(regions.getLongCardinality() + " region(s) differ from the replica (verify)");
            }
        }
        return marked;
    }

    /**
     * Split brain resolved with this side as the survivor: the loser's own changes since the common
     * generation ({@code regions}) are marked dirty here, durably, so the resync copies the union of
     * both sides' changes to the loser and overwrites the loser's writes with this side's data.
     * Returns how many were newly marked in the open era.
     */
    public long mergeLoserRegions(RoaringBitmap regions, DirtyCause cause) throws Exception {
        if (role() != Role.PRIMARY) {
            throw new InvalidInputException("volume '" + name() + "' is " + role() + " here; the surviving side must be PRIMARY");
        }
        long marked = markAll(regions, cause);
        synchronized (modeLock) {
            // A full copy may be asked of a replicating pair (an untrusted replica): the marks start a resync.
            if (mode == Mode.REPLICATING && !regions.isEmpty()) {
                beginResync(regions.getLongCardinality() + " region(s) to copy (" + cause + ")");
            }
        }
        return marked;
    }

    private long markAll(RoaringBitmap regions, DirtyCause cause) throws Exception {
        if (tracker == null) {
            throw new InvalidInputException("volume '" + name() + "' is not replicated");
        }
        long count = geometry.regionCount();
        if (!regions.isEmpty() && Integer.toUnsignedLong(regions.last()) >= count) {
            throw new InvalidInputException("volume '" + name() + "' has " + count + " regions; region "
                    + Integer.toUnsignedLong(regions.last()) + " does not exist");
        }
        // All runs at once: their bits share the tracker's group commits instead of one flush per run.
        List<CompletableFuture<MarkResult>> marks = new ArrayList<>();
        for (long[] run : RegionRuns.of(regions)) {
            marks.add(markRegions(run[0], run[1], cause).toCompletableFuture());
        }
        CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new)).get();
        long marked = 0;
        for (CompletableFuture<MarkResult> m : marks) {
            marked += m.get().firstTouchCount();
        }
        return marked;
    }

    /** Every region this side has dirty, over its open and pending eras: its changes the peer may lack. */
    public RoaringBitmap allDirtyRegions() {
        RoaringBitmap all = new RoaringBitmap();
        if (tracker != null) {
            all.or(tracker.dirtyRegions(tracker.openEra()));
            for (long era : tracker.pendingEras()) {
                all.or(tracker.dirtyRegions(era));
            }
        }
        return all;
    }

    /**
     * Split brain resolved against this side (it is SECONDARY already): its own changes were merged
     * into the survivor's dirty set, so its eras are dropped and its generation goes back to
     * {@code common}, the newest one both sides share. The survivor is then newer and resyncs this
     * copy. Returns how many (era, region) records were dropped. Idempotent.
     */
    public long discardOwnChanges(long common) {
        synchronized (modeLock) {
            GenerationHistory g = handle.metadata().generations();
            if (!g.contains(common)) {
                throw new InvalidInputException("volume '" + name() + "': generation " + String.format("%016x", common)
                        + " is not in this side's history " + g.entries().stream().map(Generation::idText).toList());
            }
            return dropOwnChanges(meta -> meta.generations().rewindTo(common), "split brain resolved");
        }
    }

    /**
     * A full copy onto this SECONDARY (its copy is unrelated, or untrusted): its own changes are
     * dropped and it takes {@code source}, the primary's current generation, as its only one, so the
     * primary attaches it and resyncs every region. Returns how many (era, region) records were dropped.
     */
    public long adoptForFullCopy(Generation source) {
        synchronized (modeLock) {
            return dropOwnChanges(meta -> new GenerationHistory(List.of(source), source.generationId(), true), "full copy from the primary");
        }
    }

    /** Drops every era of this SECONDARY and sets its generation history; inconsistent until the resync ends. Holds modeLock. */
    private long dropOwnChanges(java.util.function.Function<VolumeMetadata, GenerationHistory> history, String why) {
        if (role() != Role.SECONDARY) {
            throw new InvalidInputException("volume '" + name() + "' is " + role() + " here; demote it before discarding its changes");
        }
        long dropped = 0;
        if (tracker != null) {
            dropped = tracker.dirtyRegionCount();
            tracker.closeEra();
            for (long era : tracker.pendingEras()) {
                tracker.dropEra(era);
            }
        }
        oldestDirtyMillis = 0;
        VolumeMetadata m = handle.update(meta -> meta.withGenerations(history.apply(meta)).withConsistent(false));
        modeReason = "own changes discarded (" + why + "); generation " + m.generations().current().idText()
                + "; waiting for the resync from the primary";
        LOG.warn("volume {}: {} dirty record(s) discarded ({}); generation now {}", name(), dropped, why, m.generations().current().idText());
        return dropped;
    }


    /** Holds new writes, waits for those in flight, closes the last era. Holds modeLock. */
    private void startCutover(long openRegions) throws InterruptedException {
        setMode(Mode.CUTOVER, openRegions + " dirty region(s) left; holding writes for the last era");
        holding = true;
        holdStartedMillis = clock.millis();
        drainInFlight();
        cutoverEra = closeEraAndAnnounce();
        holdTimer = timer.schedule(this::cutoverTimedOut, policy.holdTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cutoverTimedOut() {
        synchronized (modeLock) {
            if (mode != Mode.CUTOVER) {
                return;
            }
            endHold();
            setMode(Mode.RESYNCING, "cutover hold exceeded " + policy.holdTimeout().toMillis()
                    + " ms; writes released in LOGGING, resync goes on");
        }
    }

    /** Releases held writes. Holds modeLock. */
    private void endHold() {
        if (holdTimer != null) {
            holdTimer.cancel(false);
            holdTimer = null;
        }
        if (holding && holdStartedMillis > 0) {
            lastHoldMillis = clock.millis() - holdStartedMillis;
        }
        holdStartedMillis = 0;
        holding = false;
        modeLock.notifyAll();
    }

    /**
     * Waits (releasing modeLock) until no admitted write is in flight. Holds modeLock. Polls every
     * millisecond: completions never take modeLock, so a completion on a bitmap flusher thread can
     * never wait for a thread that holds modeLock while it waits for that flusher.
     */
    private void drainInFlight() throws InterruptedException {
        while (inFlight.get() > 0) {
            modeLock.wait(1);
        }
    }

    /**
     * Both copies hold the same data now: this side's generation is shared, and the peer adopts this
     * side's history (it is consistent again). Shared is recorded before the peer is told, so a
     * peer that adopted it is never ahead of what this side believes. Holds modeLock.
     */
    private void enteredReplicating() {
        GenerationHistory shared = handle.update(m -> m.withGenerations(m.generations().markShared())).generations();
        sink.generation(name(), true, shared.entries()).whenComplete((v, e) -> {
            if (e != null) {
                LOG.info("volume {}: the peer did not adopt generation {}: {}", name(), shared.current().idText(), unwrap(e).toString());
            } else {
                peerHolds(shared.current());
            }
        });
    }

    /**
     * The first write this side logs while the peer holds its current generation makes a new
     * generation, durably, before that write goes on: from now on this copy has data the peer
     * lacks, and a reconnect must see it.
     */
    private void divergeIfShared() {
        if (role() == Role.PRIMARY && handle.metadata().generations().shared()) {
            VolumeMetadata m = handle.update(meta -> meta.generations().shared()
                    ? meta.withGenerations(meta.generations().diverge(node, clock.millis())) : meta);
            LOG.info("volume {}: new generation {} (writes the peer does not have)", name(), m.generations().current().idText());
        }
    }

    // ---------------------------------------------------------------- roles

    /**
     * On a SECONDARY: the primary says where the resync of this copy stands. Begun: the copy is
     * inconsistent until it ends. Ended ({@code inSync}): the copy equals the primary's, so it takes
     * the primary's generation history and is consistent. Persisted before it returns.
     */
    public void peerGeneration(boolean inSync, List<Generation> history) {
        synchronized (modeLock) {
            if (role() != Role.SECONDARY) {
                throw new InvalidInputException("volume '" + name() + "' is " + role() + " here; only a SECONDARY takes the peer's generation");
            }
            VolumeMetadata m = handle.update(meta -> inSync
                    ? meta.withGenerations(GenerationHistory.adoptedFrom(history)).withConsistent(true)
                    : meta.withConsistent(false));
            LOG.info("volume {}: {} (generation {})", name(), inSync ? "in sync with the primary" : "resync into this copy begun; inconsistent until it ends",
                    m.generations().current().idText());
            modeReason = inSync ? "in sync with the primary" : "being resynchronised from the primary (inconsistent until the cutover)";
            if (inSync) {
                peerHolds(m.generations().current());
            }
        }
    }

    public Role role() {
        return handle.metadata().role();
    }

    public VolumeMetadata metadata() {
        return handle.metadata();
    }

    /**
     * SECONDARY → PRIMARY: the export becomes writable and, with the peer unreachable, writes are
     * logged in this side's own bitmaps and dirty records. An inconsistent copy (a resync into it
     * was under way) is refused unless {@code force}. The role is persisted before it takes effect.
     */
    public void promote(boolean force, String reason) {
        synchronized (modeLock) {
            if (role() == Role.PRIMARY) {
                throw new InvalidInputException("volume '" + name() + "' is already PRIMARY here");
            }
            if (!handle.metadata().consistent() && !force) {
                throw new InvalidInputException("volume '" + name() + "' is inconsistent here (a resync into it did not finish); "
                        + "promoting it would serve a mix of old and new data. Use --force to promote it anyway");
            }
            handle.update(m -> m.withRole(Role.PRIMARY).withConsistent(true));
            observer.roleChanged(name(), Role.SECONDARY, Role.PRIMARY, reason);
            if (sink == null) {
                setMode(Mode.STANDALONE, "promoted; no peer configured");
            } else {
                setMode(Mode.LOGGING, "promoted; writes are logged until the peer attaches");
            }
        }
    }

    /**
     * PRIMARY → SECONDARY: holds new writes, waits for those in flight, flushes this copy (and the
     * peer's, when replicating), then persists the role; the export is read-only from then on.
     * Returns how many regions this side had dirty (writes the peer may not have).
     */
    public long demote(String reason) throws IOException {
        synchronized (modeLock) {
            if (role() == Role.SECONDARY) {
                throw new InvalidInputException("volume '" + name() + "' is already SECONDARY here");
            }
            holding = true;
            try {
                drainInFlight();
                volume.flush();
                if (mode == Mode.REPLICATING) {
                    try {
                        sink.flush(name()).toCompletableFuture().get(policy.holdTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    } catch (Exception e) {
                        LOG.info("volume {}: peer flush before demotion failed ({}); hot regions become dirty", name(), e.toString());
                        markHotDirty().get();
                    }
                }
                becomeSecondary(reason);
                return dirtyRegions();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while demoting '" + name() + "'", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("cannot mark hot regions dirty before demoting '" + name() + "': " + unwrap(e).getMessage(), e);
            } finally {
                endHold();
            }
        }
    }

    /** Persists SECONDARY and switches the mode. Holds modeLock. */
    private void becomeSecondary(String reason) {
        endHold();
        handle.update(m -> m.withRole(Role.SECONDARY));
        observer.roleChanged(name(), Role.PRIMARY, Role.SECONDARY, reason);
        setMode(Mode.SECONDARY, reason);
    }

    /** How long the last cutover held writes, in ms, or -1 before the first cutover. */
    public long lastHoldMillis() {
        return lastHoldMillis;
    }

    private void setMode(Mode to, String reason) {
        Mode from = mode;
        mode = to;
        modeReason = reason;
        LOG.info("volume {}: {} -> {} ({})", name(), from, to, reason);
        observer.modeChanged(name(), from, to, reason);
    }

    private Mode currentMode() {
        synchronized (modeLock) {
            return mode;
        }
    }

    // ---------------------------------------------------------------- write paths

    private interface IoAction {
        void run() throws IOException;
    }

    private interface WritePath {
        CompletionStage<Void> start(Mode mode);
    }

    /** Admits a write under the current mode, counts it in flight until its stage completes. */
    private CompletionStage<Void> admitted(long offset, long length, WritePath path) {
        Mode m;
        synchronized (modeLock) {
            while (holding) {
                try {
                    modeLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return CompletableFuture.failedFuture(e);
                }
            }
            m = mode;
            inFlight.incrementAndGet();
        }
        boolean mirrored = m == Mode.REPLICATING;
        if (mirrored) {
            enterHot(offset, length);
        }
        CompletionStage<Void> stage;
        try {
            stage = path.start(m);
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        return stage.whenComplete((v, e) -> {
            if (mirrored) {
                leaveHot(offset, length);
            }
            inFlight.decrementAndGet();
        });
    }

    private CompletionStage<Void> logged(long offset, long length, IoAction local) {
        if (tracker == null) {
            return run(local);
        }
        return then(mark(offset, length, DirtyCause.LOGGED_WRITE), () -> run(local));
    }

    private CompletionStage<Void> mirrored(long offset, long length, IoAction local, java.util.function.Supplier<CompletionStage<Void>> remote) {
        CompletionStage<Void> hot = tracker.markHot(offset, length);
        return then(hot, () -> {
            CompletableFuture<Void> localDone = run(local);
            CompletableFuture<Throwable> remoteDone = remote.get().toCompletableFuture()
                    .handle((v, e) -> e == null ? null : unwrap(e));
            return localDone.handle((v, localError) -> unwrap(localError))
                    .thenCombine(remoteDone, (localError, remoteError) -> new Throwable[] {localError, remoteError})
                    .thenCompose(errors -> settle(offset, length, errors[0], errors[1]));
        });
    }

    /** Decides a mirrored write's outcome once both copies finished. */
    private CompletionStage<Void> settle(long offset, long length, Throwable localError, Throwable remoteError) {
        if (remoteError != null && localError == null) {
            // The peer may not have it: dirty before the client hears success.
            return mark(offset, length, DirtyCause.IN_FLIGHT).thenApply(r -> null);
        }
        if (localError != null && remoteError == null) {
            // The peer has data the source lacks: dirty, so a resync restores the source's view.
            return mark(offset, length, DirtyCause.LOCAL_EIO)
                    .thenCompose(r -> CompletableFuture.<Void>failedFuture(localError));
        }
        if (localError != null) {
            return mark(offset, length, DirtyCause.LOCAL_EIO)
                    .thenCompose(r -> CompletableFuture.<Void>failedFuture(localError));
        }
        return CompletableFuture.completedFuture(null);
    }

    private CompletionStage<MarkResult> mark(long offset, long length, DirtyCause cause) {
        try {
            divergeIfShared();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletionStage<MarkResult> stage = tracker.markWrite(offset, length);
        return stage.thenApply(result -> {
            if (result.firstTouchCount() > 0) {
                long now = clock.millis();
                if (oldestDirtyMillis == 0) {
                    oldestDirtyMillis = now;
                }
                result.firstTouches().forEach(region -> observer.firstTouch(name(), result.era(), region, now, cause));
            }
            return result;
        });
    }

    private CompletionStage<MarkResult> markRegions(long first, long last, DirtyCause cause) {
        long offset = geometry.regionStart(first);
        long end = geometry.regionStart(last) + geometry.regionLength(last);
        return mark(offset, end - offset, cause);
    }

    /** Runs {@code next} after {@code stage}: inline when it is already done, else on the I/O executor (never on a flusher thread). */
    private <T> CompletionStage<Void> then(CompletionStage<T> stage, java.util.function.Supplier<CompletionStage<Void>> next) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone() && !f.isCompletedExceptionally()) {
            return next.get();
        }
        return f.thenComposeAsync(x -> next.get(), io);
    }

    private void localWrite(long offset, ByteBuffer data, boolean fua) throws IOException {
        volume.write(offset, data);
        if (fua) {
            volume.flush();
        }
    }

    private void localZeroes(long offset, long length, boolean fua) throws IOException {
        volume.writeZeroes(offset, length);
        if (fua) {
            volume.flush();
        }
    }

    /** The link has no WRITE_ZEROES yet: zeroes are sent as writes of at most 1 MiB each, all pipelined. */
    private CompletionStage<Void> remoteZeroes(long offset, long length, boolean fua) {
        CompletableFuture<?>[] parts = new CompletableFuture<?>[(int) ((length + ZERO_CHUNK - 1) / ZERO_CHUNK)];
        long pos = offset;
        for (int i = 0; i < parts.length; i++) {
            int n = (int) Math.min(ZERO_CHUNK, offset + length - pos);
            ByteBuffer chunk = ZEROES.duplicate();
            chunk.limit(n);
            parts[i] = sink.write(name(), pos, chunk, fua && i == parts.length - 1).toCompletableFuture();
            pos += n;
        }
        return CompletableFuture.allOf(parts);
    }

    private static CompletableFuture<Void> run(IoAction action) {
        try {
            action.run();
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        } catch (UncheckedIOException e) {
            return CompletableFuture.failedFuture(e.getCause());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private InvalidInputException rangeError(long offset, long length) {
        return new InvalidInputException("volume '" + name() + "': range [" + offset + ", +" + length
                + ") is outside the volume (size " + size() + ")");
    }

    // ---------------------------------------------------------------- activity log

    private void enterHot(long offset, long length) {
        long first = geometry.firstRegion(offset);
        long last = geometry.lastRegion(offset, length);
        synchronized (activityLock) {
            touchedSinceCheckpoint.add(first, last + 1);
            for (long r = first; r <= last; r++) {
                hotInFlight.merge(r, 1, Integer::sum);
            }
        }
    }

    private void leaveHot(long offset, long length) {
        long first = geometry.firstRegion(offset);
        long last = geometry.lastRegion(offset, length);
        synchronized (activityLock) {
            touchedSinceCheckpoint.add(first, last + 1);
            for (long r = first; r <= last; r++) {
                hotInFlight.computeIfPresent(r, (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /**
     * Cools hot regions whose writes are flushed on both sides: regions with no write in flight and
     * none admitted or completed since this checkpoint started. Returns the number cooled.
     * Does nothing unless REPLICATING.
     */
    public long checkpointActivity(long timeoutMillis) throws Exception {
        if (currentMode() != Mode.REPLICATING) {
            return 0;
        }
        synchronized (activityLock) {
            touchedSinceCheckpoint = new RoaringBitmap();
        }
        volume.flush();
        sink.flush(name()).toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
        RoaringBitmap cool;
        synchronized (activityLock) {
            cool = RoaringBitmap.andNot(tracker.activity().hotRegions(), touchedSinceCheckpoint);
            for (Long r : hotInFlight.keySet()) {
                cool.remove(r.intValue());
            }
            if (!cool.isEmpty()) {
                tracker.activity().cool(cool);
            }
        }
        return cool.getLongCardinality();
    }

    // ---------------------------------------------------------------- status

    public long dirtyRegions() {
        return tracker == null ? 0 : tracker.dirtyRegionCount();
    }

    public long era() {
        return tracker == null ? 0 : tracker.openEra();
    }

    /** Epoch millis of the oldest write the peer may lack (approximate across restarts), or 0 when nothing is dirty. */
    public long oldestDirtyMillis() {
        if (dirtyRegions() == 0) {
            oldestDirtyMillis = 0;
        }
        return oldestDirtyMillis;
    }

    public Volume volume() {
        return volume;
    }

    public DirtyTracker tracker() {
        return tracker;
    }
}
