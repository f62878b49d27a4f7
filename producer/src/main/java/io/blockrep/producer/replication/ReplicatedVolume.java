package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.producer.dirty.DirtyLog;
import io.blockrep.producer.dirty.MarkResult;
import io.blockrep.producer.dirty.RegionRuns;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.roaringbitmap.RoaringBitmap;

/**
 * One volume of a facility, whatever its role: the face the facility, the control API and the NBD
 * export ({@code producer.nbd.VolumeExport}) see. It wires four parts, each in its own class:
 * <ul>
 *   <li>{@link WritePath}: admission, mirroring, logging, marking;</li>
 *   <li>{@link ModeMachine}: the modes, holds and drains, link events, the invariant, and through
 *       {@link ResyncCoordinator} the eras of a resync and the checks of replay reports;</li>
 *   <li>{@link VolumeRoles}: roles and generations (promote, demote, split brain, adoption);</li>
 *   <li>{@link ActivityCheckpointer}: cooling the activity log.</li>
 * </ul>
 *
 * <p>Thread-safety: all public methods may be called from any thread. Link events must be
 * delivered in the order they happened (the facility uses one {@link SerialExecutor} per volume);
 * none of them blocks.
 */
public final class ReplicatedVolume {
    private final Volume volume;
    private final VolumeHandle handle;
    private final DirtyLog tracker;
    private final ReplicaSink sink;
    private final ResyncPolicy policy;
    private final RegionGeometry geometry;
    private final ModeMachine machine;
    private final ModeTimer timer;
    private final VolumeRoles roles;
    private final WritePath writes;
    private final ActivityCheckpointer activity;
    /** Bytes of data sets applied to this copy (as a replica) since the facility started. */
    private final java.util.concurrent.atomic.AtomicLong dataSetBytes = new java.util.concurrent.atomic.AtomicLong();

    /**
     * When and how a dirty volume resynchronises. {@code cutoverRegions}: writes are held for the final
     * era once the open era has at most this many dirty regions (or no fewer than the era just copied);
     * {@code holdTimeout}: the longest hold (a cutover's, or a restore's drain) before it is aborted and
     * writes are released in LOGGING; {@code retryDelay}: how long a volume that fell back to LOGGING
     * while the link stayed up (a failed mirrored write, a failed era change) waits before it tries
     * to resync again.
     */
    public record ResyncPolicy(boolean autosync, long cutoverRegions, Duration holdTimeout, Duration retryDelay) {
        public static final ResyncPolicy DEFAULT = new ResyncPolicy(true, 16, Duration.ofSeconds(2), Duration.ofSeconds(1));

        public ResyncPolicy(boolean autosync, long cutoverRegions, Duration holdTimeout) {
            this(autosync, cutoverRegions, holdTimeout, Duration.ofSeconds(1));
        }
    }

    /**
     * How REPLICATING mirrors writes. Sync: a write is acknowledged once both sides have it. Async
     * ({@code async=true}): once it is durable here; its copy waits in a queue of at most
     * {@code queueBytes} and at most {@code maxLag} old (zero = no age bound), see {@link AsyncMirror}.
     */
    public record MirrorPolicy(boolean async, long queueBytes, Duration maxLag) {
        public static final MirrorPolicy SYNC = new MirrorPolicy(false, 64L << 20, Duration.ofSeconds(5));

        public static MirrorPolicy async(long queueBytes, Duration maxLag) {
            return new MirrorPolicy(true, queueBytes, maxLag);
        }
    }

    /**
     * What the replication side needs besides the volume: this facility's node id (it names the
     * generations it makes), the clock, an I/O executor (continuations, never a flusher thread),
     * timers, the resync policy, and {@code reoffer}, run when this side changed its role by itself
     * so that the link offers the new role to the peer (a new handshake).
     */
    public record Services(String node, Clock clock, Executor io, ModeTimer timer, ResyncPolicy policy, Runnable reoffer,
                           MirrorPolicy mirror) {
        public Services(String node, Clock clock, Executor io, ModeTimer timer, ResyncPolicy policy, Runnable reoffer) {
            this(node, clock, io, timer, policy, reoffer, MirrorPolicy.SYNC);
        }

        public Services(String node, Clock clock, Executor io, ScheduledExecutorService timer, ResyncPolicy policy, Runnable reoffer) {
            this(node, clock, io, ModeTimer.of(timer), policy, reoffer);
        }

        public Services(String node, Clock clock, Executor io, ScheduledExecutorService timer, ResyncPolicy policy) {
            this(node, clock, io, ModeTimer.of(timer), policy, () -> { });
        }
    }

    /**
     * How the peer last described its copy of this volume (at a handshake in either direction) and
     * what the comparison of generation histories decided, as this side sees it.
     */
    public record PeerState(String peerNode, Role peerRole, SyncDecision decision, String currentGeneration, String detail) {
    }

    /**
     * @param tracker null for a STANDALONE volume (no peer): writes are then neither mirrored nor tracked
     * @param sink    null for a STANDALONE volume
     */
    public ReplicatedVolume(VolumeHandle handle, DirtyLog tracker, ReplicaSink sink, VolumeObserver observer, Services services) {
        if ((tracker == null) != (sink == null)) {
            throw new IllegalArgumentException("tracker and sink are both set (replicated) or both null (standalone)");
        }
        this.handle = handle;
        this.volume = handle.volume();
        this.tracker = tracker;
        this.sink = sink;
        this.policy = services.policy();
        this.geometry = volume.geometry();
        this.timer = services.timer();
        Role role = handle.metadata().role();
        Mode initial = role == Role.SECONDARY ? Mode.SECONDARY : sink == null ? Mode.STANDALONE : Mode.LOGGING;
        String why = role == Role.SECONDARY ? "the peer's copy; written only over the link"
                : sink == null ? "no peer configured" : "waiting for the link";
        this.machine = new ModeMachine(volume.id(), tracker, observer, services, initial, why);
        this.roles = new VolumeRoles(handle, tracker, sink, observer, services, machine);
        machine.roles(roles);
        this.activity = new ActivityCheckpointer(volume, tracker, sink, machine::mode);
        this.writes = new WritePath(volume, tracker, sink, observer, services, machine, roles, activity);
        if (tracker != null && tracker.dirtyRegionCount() > 0 && role == Role.PRIMARY) {
            // Regions dirty at start (a backlog, hot regions after a crash) may be missing on the
            // peer: this copy has data the peer lacks, so it must not share the peer's generation.
            roles.divergeIfShared();
        }
    }

    // ---------------------------------------------------------------- I/O (served by the NBD export)

    public String name() {
        return volume.id();
    }

    public long size() {
        return volume.size();
    }

    /** True while this side is SECONDARY: NBD clients may read, only the link writes. */
    public boolean readOnly() {
        return role() == Role.SECONDARY;
    }

    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return writes.read(offset, dst);
    }

    public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        return writes.write(offset, data, fua);
    }

    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        return writes.writeZeroes(offset, length, fua);
    }

    public CompletionStage<Void> trim(long offset, long length) {
        return writes.trim(offset, length);
    }

    public CompletionStage<Void> flush() {
        return writes.flush();
    }

    // ---------------------------------------------------------------- modes

    public Mode mode() {
        return machine.mode();
    }

    public String modeReason() {
        return machine.reason();
    }

    /** The link failed; see {@link ModeMachine#linkDown}. Never blocks. */
    public void linkDown(String reason) {
        if (sink != null) {
            machine.linkDown(reason);
        }
    }

    /** The link is healthy again; {@code peer} is how the handshake went for this volume. Never blocks. */
    public void linkRestored(PeerView peer) {
        if (sink != null) {
            machine.linkRestored(peer);
        }
    }

    /** Marks every hot region of the activity log dirty (cause IN_FLIGHT); completes when all are durable. */
    public CompletableFuture<Void> markHotDirty() {
        return writes.markHotDirty();
    }

    /** An operator approved the resync of a volume in AWAITING_APPROVAL. */
    public void approve() {
        machine.approve();
    }

        /** Regions of pending eras the replica holds already, reported while a copy is under way; nothing is dropped. */
    public void regionsCopied(Map<Long, RoaringBitmap> copied) {
        if (tracker == null) {
            throw new InvalidInputException("volume '" + name() + "' is not replicated");
        }
        machine.regionsCopied(copied);
    }

/**
     * The replayer copied {@code copied} (per era, the regions it copied) of exactly the eras in
     * {@code regionCountByEra} (each with the region count of its era-closed marker). Refused, with
     * nothing dropped, when an era is not pending here, its count differs from this side's bitmap, or
     * a region this side logged in it was not reported copied (its record is then published again).
     */
    public void erasReplayed(SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied) {
        if (tracker == null) {
            throw new InvalidInputException("volume '" + name() + "' is not replicated");
        }
        machine.erasReplayed(regionCountByEra, copied);
    }

    /**
     * Regions found to differ from the replica (by {@code blockrep verify}): marks them dirty and, if
     * the volume was REPLICATING, leaves it first (no mark lands in REPLICATING) and resyncs once they are marked. Returns how
     * many regions were newly marked in the open era.
     */
    public long markDiffering(RoaringBitmap regions) throws Exception {
        if (!regions.isEmpty()) {
            machine.leaveReplicating(regions.getLongCardinality() + " region(s) differ from the replica (verify)");
        }
        long marked = markAll(regions, DirtyCause.VERIFY_MISMATCH);
        machine.retryNow();
        return marked;
    }

    /**
     * Split brain resolved with this side as the survivor: the loser's own changes since the common
     * generation ({@code regions}) are marked dirty here, durably, so the resync copies the union of
     * both sides' changes to the loser. A full copy may be asked of a replicating pair (an untrusted
     * replica): the resync starts first. Returns how many were newly marked in the open era.
     */
    public long mergeLoserRegions(RoaringBitmap regions, DirtyCause cause) throws Exception {
        if (role() != Role.PRIMARY) {
            throw new InvalidInputException("volume '" + name() + "' is " + role() + " here; the surviving side must be PRIMARY");
        }
        if (!regions.isEmpty()) {
            machine.leaveReplicating(regions.getLongCardinality() + " region(s) to copy (" + cause + ")");
        }
        long marked = markAll(regions, cause);
        machine.retryNow();
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
            marks.add(writes.markRegions(run[0], run[1], cause).toCompletableFuture());
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
            tracker.dirtySnapshot().values().forEach(all::or); // one instant: no era dropped between listing and reading
        }
        return all;
    }

    // ---------------------------------------------------------------- roles

    /** Remembers how the peer described its copy (the link server's side of a handshake). */
    public void recordPeer(String peerNode, Role peerRole, List<Generation> peerHistory, String detail) {
        roles.recordPeer(peerNode, peerRole, peerHistory, detail);
    }

    public PeerState peerState() {
        return roles.peerState();
    }

    /** True when the peer refused to attach this volume at the last handshake of this side's own link. */
    public boolean refusedByPeer() {
        return roles.refusedByPeer();
    }

    /** On a SECONDARY: the primary says where the resync of this copy stands; see {@link VolumeRoles#peerGeneration}. */
    public void peerGeneration(boolean inSync, List<Generation> history) {
        roles.peerGeneration(inSync, history);
    }

    public Role role() {
        return handle.metadata().role();
    }

    public VolumeMetadata metadata() {
        return handle.metadata();
    }

    /** SECONDARY → PRIMARY; an inconsistent copy is refused unless {@code force}. */
    public void promote(boolean force, String reason) {
        roles.promote(force, reason);
    }

    /**
     * PRIMARY → SECONDARY: holds new writes, waits (bounded by the hold timeout) for those in flight,
     * flushes this copy (and the peer's, when replicating; a failed peer flush makes the hot regions
     * dirty), then persists the role; the export is read-only from then on. Returns how many regions
     * this side had dirty (writes the peer may not have).
     */
    public long demote(String reason) throws IOException {
        long wait = policy.holdTimeout().toMillis();
        try {
            // the peer's flush is bounded by the hold timeout too
            return demoteAsync(reason).toCompletableFuture().get(3 * wait, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RetriableException("volume '" + name() + "': writes in flight or the peer's flush did not finish in time; "
                    + "not demoted, try again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while demoting '" + name() + "'", e);
        } catch (ExecutionException e) {
            Throwable cause = VolumeRoles.unwrap(e.getCause());
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException("cannot demote '" + name() + "': " + cause.getMessage(), cause);
        }
    }

    /** {@link #demote} without blocking: the stage completes with the dirty region count once the role is persisted. */
    public CompletionStage<Long> demoteAsync(String reason) {
        if (role() == Role.SECONDARY) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + name() + "' is already SECONDARY here"));
        }
        CompletionStage<Void> drained;
        try {
            drained = machine.holdForDemotion();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        ModeTimer.Scheduled bound = timer.schedule(machine::releaseDemoteHold, policy.holdTimeout()); // never hold longer
        return drained.thenCompose(x -> {
            try {
                volume.flush();
            } catch (IOException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (machine.mode() != Mode.REPLICATING) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            return sink.flush(name()).toCompletableFuture().orTimeout(policy.holdTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .handle((v, e) -> e).thenCompose(e -> {
                        if (e == null) {
                            return CompletableFuture.<Void>completedFuture(null);
                        }
                        machine.mirrorFailed("peer flush before demotion failed: " + VolumeRoles.unwrap(e));
                        return writes.markHotDirty();
                    });
        }).thenApply(x -> {
            synchronized (machine.lock) {
                if (!machine.holdsForDemotion()) {
                    throw new RetriableException("volume '" + name() + "': the demotion's hold ended before it was done; not demoted, try again");
                }
                roles.becomeSecondary(reason);
            }
            return dirtyRegions();
        }).whenComplete((v, e) -> {
            bound.cancel();
            machine.releaseDemoteHold();
        });
    }

    /** Split brain resolved against this side: see {@link VolumeRoles#discardOwnChanges}. */
    public long discardOwnChanges(long common) {
        return roles.discardOwnChanges(common);
    }

    /** A full copy onto this SECONDARY: see {@link VolumeRoles#adoptForFullCopy}. */
    public long adoptForFullCopy(Generation source) {
        return roles.adoptForFullCopy(source);
    }

    // ---------------------------------------------------------------- activity log and status

    /** Cools hot regions flushed on both sides; see {@link ActivityCheckpointer}. Returns the number cooled. */
    public long checkpointActivity(long timeoutMillis) throws Exception {
        return activity.checkpoint(timeoutMillis);
    }

    /** Epoch millis since which the oldest closed era has waited for the replayer, or -1 when none waits. */
    public long waitingForReplaySinceMillis() {
        return machine.waitingForReplaySinceMillis();
    }

    /** How long the last cutover held writes, in ms, or -1 before the first cutover. */
    /** The async mirror's queue figures (lag, high-water mark, overflows); null when this volume mirrors synchronously. */
    public MirrorLag asyncStats() {
        return writes.asyncStats();
    }

    /** Whether the async queue holds (or is marking) a copy overlapping the range; tests' invariant checks. */
    boolean asyncHolds(long offset, long length) {
        return writes.asyncHolds(offset, length);
    }

    public long lastHoldMillis() {
        return machine.lastHoldMillis();
    }

    /** A data set of {@code bytes} was applied to this copy (its link server tells). */
    public void dataSetApplied(long bytes) {
        dataSetBytes.addAndGet(bytes);
    }

    /** Bytes of data sets applied to this copy since the facility started: what resyncs and full copies wrote here. */
    public long dataSetBytesApplied() {
        return dataSetBytes.get();
    }

    public long dirtyRegions() {
        return tracker == null ? 0 : tracker.dirtyRegionCount();
    }

    public long era() {
        return tracker == null ? 0 : tracker.openEra();
    }

    /** Epoch millis of the oldest write the peer may lack (approximate across restarts), or 0 when nothing is dirty. */
    public long oldestDirtyMillis() {
        return writes.oldestDirtyMillis();
    }

    public Volume volume() {
        return volume;
    }

    public DirtyLog tracker() {
        return tracker;
    }
}
