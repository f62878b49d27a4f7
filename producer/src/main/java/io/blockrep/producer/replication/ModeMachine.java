package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.producer.dirty.DirtyLog;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mode machine of one volume (DESIGN.md "Modes of a primary volume"):
 *
 * <pre>
 * LOGGING ── link restored, nothing dirty, writes drained ──▶ REPLICATING
 * LOGGING ── link restored, dirty ──▶ RESYNCING (autosync) | AWAITING_APPROVAL ── approve ──▶ RESYNCING
 * RESYNCING ── eras replayed, open era small ──▶ CUTOVER (hold writes, drain, close the last era)
 * CUTOVER ── last era replayed ──▶ REPLICATING (release the held writes, now mirrored)
 * CUTOVER ── hold timeout ──▶ RESYNCING (writes released, logged)
 * REPLICATING | RESYNCING | CUTOVER | AWAITING_APPROVAL ── link down ──▶ LOGGING
 * REPLICATING ── a mirrored write or flush failed ──▶ LOGGING (before that write is acknowledged)
 * LOGGING with the link up ── retry delay ──▶ as "link restored" again
 * </pre>
 * plus SPLIT_BRAIN, SECONDARY and STANDALONE, whose changes {@link VolumeRoles} makes.
 *
 * <p>Invariant, checked at every entry to REPLICATING and after every mark: a volume in REPLICATING
 * has no dirty region and no write in flight that was admitted in another mode. A violation is a
 * bug: it is logged as such, reported to the observer, and the volume goes to LOGGING, from which
 * the normal resync repairs it.
 *
 * <p>Concurrency. All state is guarded by {@link #lock}; no thread ever waits while holding it
 * (nothing under it blocks on a write completion, the link or a timer), so completions, link
 * threads and the control API may all take it. Holding writes never blocks a thread either:
 * {@link #admit()} returns a stage that completes when the hold ends. A transition that needs the
 * writes in flight to finish first (to REPLICATING, the cutover's last era, a demotion) arms a
 * drain: the completion that brings the in-flight count to zero hands the continuation to the I/O
 * executor, and the continuation re-checks that nothing changed meanwhile (the link epoch, the
 * mode, the hold). Every hold is bounded by a timer. Link events are applied in the order the
 * caller delivers them (the facility uses one {@link SerialExecutor} per volume); a "restored"
 * whose link went down again before its drain finished is dropped by the epoch check.
 */
final class ModeMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ModeMachine.class);

    /** Who holds new writes, if anyone. A link failure ends RESTORE and CUTOVER holds, never DEMOTE. */
    enum Hold { NONE, RESTORE, CUTOVER, DEMOTE }

    final Object lock = new Object();
    private final String volume;
    private final DirtyLog tracker;
    private final VolumeObserver observer;
    private final ReplicatedVolume.ResyncPolicy policy;
    private final ModeTimer timer;
    private final Executor io;
    private final Clock clock;
    private final ResyncCoordinator resync;
    private VolumeRoles roles;

    /** Written under lock; volatile for the lock-free check in {@link #marked}. */
    private volatile Mode mode;
    private String reason;
    private Hold hold = Hold.NONE;
    private long holdSeq;
    private long holdStartedMillis;
    private volatile long lastHoldMillis = -1;
    private ModeTimer.Scheduled holdTimer;
    private ModeTimer.Scheduled retryTimer;
    private List<CompletableFuture<Admission>> waiting = new ArrayList<>();
    private Runnable onDrained;
    private volatile boolean drainArmed;
    /** Writes admitted and not yet completed, per admission epoch; admitted under {@link #lock}, completed without it. */
    private final WriteEpochs inFlight = new WriteEpochs();
    private boolean linkUp;
    private long linkEpoch;
    private PeerView lastPeer;
    private long cutoverEra = -1;

    ModeMachine(String volume, DirtyLog tracker, VolumeObserver observer, ReplicatedVolume.Services services, Mode initial, String why) {
        this.volume = volume;
        this.tracker = tracker;
        this.observer = observer;
        this.policy = services.policy();
        this.timer = services.timer();
        this.io = services.io();
        this.clock = services.clock();
        this.resync = tracker == null ? null : new ResyncCoordinator(volume, tracker, observer, services.clock());
        this.mode = initial;
        this.reason = why;
    }

    void roles(VolumeRoles roles) {
        this.roles = roles;
    }

    Mode mode() {
        synchronized (lock) {
            return mode;
        }
    }

    String reason() {
        synchronized (lock) {
            return reason;
        }
    }

    /** See {@link ResyncCoordinator#oldestAnnouncedMillis()}; -1 without a tracker. */
    long waitingForReplaySinceMillis() {
        synchronized (lock) {
            return resync == null ? -1 : resync.oldestAnnouncedMillis();
        }
    }

    long lastHoldMillis() {
        return lastHoldMillis;
    }

    long inFlight() {
        return inFlight.total();
    }

    /** An admitted write: the mode it runs under and its epoch, handed back to {@link #completed}. */
    record Admission(Mode mode, long epoch) {
    }

    // ---------------------------------------------------------------- admission

    /**
     * Admits a write: the stage completes with the mode it runs under, at once unless writes are
     * held, and the write counts as in flight until {@link #completed}. Never blocks.
     */
    CompletionStage<Admission> admit() {
        synchronized (lock) {
            if (hold == Hold.NONE) {
                return CompletableFuture.completedFuture(new Admission(mode, inFlight.admit()));
            }
            CompletableFuture<Admission> f = new CompletableFuture<>();
            waiting.add(f);
            return f;
        }
    }

    /** An admitted write completed (any thread, any lock held or not: takes no lock). */
    void completed(Admission a) {
        boolean epochEnded = inFlight.complete(a.epoch());
        if ((drainArmed && inFlight.total() == 0) || (epochEnded && resync.awaitsDrain())) {
            io.execute(this::drained);
        }
    }

    // ---------------------------------------------------------------- link events

    /**
     * The link failed: LOGGING at once; a restore or cutover in progress stops and its held writes
     * are released (logged). Writes in flight to the peer are marked dirty by their own failure path.
     */
    void linkDown(String why) {
        synchronized (lock) {
            linkUp = false;
            linkEpoch++;
            cancelRetry();
            if (hold == Hold.RESTORE || hold == Hold.CUTOVER) {
                cancelDrain();
                endHold();
            }
            if (mode == Mode.REPLICATING || mode == Mode.RESYNCING || mode == Mode.CUTOVER || mode == Mode.AWAITING_APPROVAL) {
                setMode(Mode.LOGGING, "link down: " + why);
            }
        }
    }

    /** The link is healthy again; {@code peer} is how its handshake went for this volume. */
    void linkRestored(PeerView peer) {
        synchronized (lock) {
            linkUp = true;
            linkEpoch++;
            lastPeer = peer;
            roles.peerSeen(peer);
            tryRestore();
        }
    }

    /**
     * A mirrored write or flush failed while REPLICATING: the peer may lack it, so LOGGING now,
     * before the caller marks its regions and acknowledges it.
     */
    void mirrorFailed(String why) {
        synchronized (lock) {
            if (mode == Mode.REPLICATING) {
                setMode(Mode.LOGGING, why);
                armRetry();
            }
        }
    }

    /** With the link up and this volume attached: REPLICATING (after a drain), RESYNCING or AWAITING_APPROVAL. Under lock. */
    private void tryRestore() {
        cancelRetry();
        if ((mode != Mode.LOGGING && mode != Mode.SPLIT_BRAIN) || hold != Hold.NONE || lastPeer == null || !linkUp) {
            return;
        }
        PeerView peer = lastPeer;
        if (!roles.attachedBy(peer)) {
            return;
        }
        long dirty = tracker.dirtyRegionCount();
        if (dirty > 0) {
            resyncOrWait("link restored with " + dirty + " dirty region(s)");
            return;
        }
        long epoch = linkEpoch;
        long seq = startHold(Hold.RESTORE);
        holdTimer = timer.schedule(() -> restoreTimedOut(seq), policy.holdTimeout());
        armDrain(() -> {
            if (epoch != linkEpoch || !linkUp || (mode != Mode.LOGGING && mode != Mode.SPLIT_BRAIN)) {
                endHold();
                return;
            }
            long d = tracker.dirtyRegionCount();
            if (d == 0) {
                enterReplicating("link restored, replica in sync");
            } else {
                resyncOrWait("link restored with " + d + " dirty region(s)");
            }
            endHold();
        });
    }

    private void restoreTimedOut(long seq) {
        synchronized (lock) {
            if (hold != Hold.RESTORE || holdSeq != seq) {
                return;
            }
            cancelDrain();
            endHold();
            reason = "writes in flight did not finish within " + policy.holdTimeout().toMillis() + " ms of the link's restore; retrying";
            LOG.warn("volume {}: {}", volume, reason);
            armRetry();
        }
    }

    /** Under lock: autosync → RESYNCING, else AWAITING_APPROVAL. */
    private void resyncOrWait(String why) {
        if (policy.autosync()) {
            beginResync(why + "; autosync");
        } else if (mode != Mode.AWAITING_APPROVAL) {
            setMode(Mode.AWAITING_APPROVAL, why + "; waiting for blockrep approve");
        }
    }

    // ---------------------------------------------------------------- resync

    void approve() {
        synchronized (lock) {
            if (mode != Mode.AWAITING_APPROVAL) {
                throw new InvalidInputException("volume '" + volume + "' is " + mode + ", not AWAITING_APPROVAL");
            }
            beginResync("approved by an operator");
        }
    }

    /** Regions are about to be marked outside the write path (verify, merge): a REPLICATING volume leaves it first. */
    void leaveReplicating(String why) {
        mirrorFailed(why);
    }

    /** Regions were marked outside the write path: with the link up, resync now instead of after the retry delay. */
    void retryNow() {
        synchronized (lock) {
            if (linkUp && mode == Mode.LOGGING) {
                tryRestore();
            }
        }
    }

    /** Under lock: RESYNCING, the peer told, pending eras re-announced and the open era closed. */
    private void beginResync(String why) {
        setMode(Mode.RESYNCING, why);
        roles.resyncBegun();
        try {
            resync.begin(inFlight);
        } catch (RuntimeException e) {
            setMode(Mode.LOGGING, "cannot start the resync: " + e.getMessage());
            armRetry();
        }
    }

        /** A copy's progress: regions the replica holds already, counted by the final report (see {@link ResyncCoordinator#copied}). */
    void regionsCopied(Map<Long, RoaringBitmap> copiedRegions) {
        synchronized (lock) {
            resync.copied(copiedRegions);
        }
    }

/**
     * The replayer copied exactly the eras of {@code report} (era → its region count). Drops them
     * (refusing, with nothing dropped, a report that does not match what this side closed), then:
     * more eras pending → wait; RESYNCING and the open era small, or no smaller than the eras just
     * copied → CUTOVER; RESYNCING otherwise → close the next era; CUTOVER and the last era copied
     * → REPLICATING.
     */
    void erasReplayed(SortedMap<Long, Long> report, Map<Long, RoaringBitmap> copiedRegions) {
        synchronized (lock) {
            long copied = resync.drop(report, copiedRegions);
            if (!tracker.pendingEras().isEmpty()) {
                return;
            }
            if (mode == Mode.RESYNCING) {
                long open = tracker.dirtyRegions(tracker.openEra()).getLongCardinality();
                if (open <= policy.cutoverRegions() || open >= copied) {
                    startCutover(open);
                } else {
                    closeNextEra();
                }
            } else if (mode == Mode.CUTOVER && hold == Hold.CUTOVER && cutoverEra >= 0 && report.lastKey() >= cutoverEra) {
                long held = clock.millis() - holdStartedMillis;
                if (tracker.dirtyRegionCount() == 0) {
                    enterReplicating("cutover complete; writes held " + held + " ms");
                    endHold();
                } else {
                    // regions were marked while writes were held (a verify or merge): one more pass
                    endHold();
                    setMode(Mode.RESYNCING, "regions marked during the cutover; another pass");
                    closeNextEra();
                }
            }
        }
    }

    private void closeNextEra() {
        try {
            resync.closeEraAndAnnounce(inFlight);
        } catch (RuntimeException e) {
            setMode(Mode.LOGGING, "cannot close an era: " + e.getMessage());
            armRetry();
        }
    }

    /** Under lock: holds new writes; once those in flight are done, closes the last era. The hold timer covers the drain. */
    private void startCutover(long openRegions) {
        setMode(Mode.CUTOVER, openRegions + " dirty region(s) left; holding writes for the last era");
        cutoverEra = -1;
        long seq = startHold(Hold.CUTOVER);
        holdTimer = timer.schedule(() -> cutoverTimedOut(seq), policy.holdTimeout());
        armDrain(() -> {
            if (mode != Mode.CUTOVER || hold != Hold.CUTOVER || holdSeq != seq) {
                return;
            }
            try {
                cutoverEra = resync.closeEraAndAnnounce(inFlight);
            } catch (RuntimeException e) {
                endHold();
                setMode(Mode.LOGGING, "cannot close the last era: " + e.getMessage());
                armRetry();
            }
        });
    }

    private void cutoverTimedOut(long seq) {
        synchronized (lock) {
            if (mode != Mode.CUTOVER || hold != Hold.CUTOVER || holdSeq != seq) {
                return;
            }
            boolean closed = cutoverEra >= 0;
            cancelDrain();
            endHold();
            setMode(Mode.RESYNCING, "cutover hold exceeded " + policy.holdTimeout().toMillis() + " ms; writes released in LOGGING, resync goes on");
            if (!closed) {
                closeNextEra(); // the writes never drained: the era stays open, so close it for the next pass
            }
        }
    }

    // ---------------------------------------------------------------- holds and drains

    /**
     * Holds new writes for a demotion; the stage completes (on the I/O executor) once no write is
     * in flight. The caller must {@link #releaseDemoteHold()} whatever happens.
     */
    CompletionStage<Void> holdForDemotion() {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        synchronized (lock) {
            if (hold != Hold.NONE) {
                throw new RetriableException("volume '" + volume + "' holds writes for " + hold + " now; try again");
            }
            startHold(Hold.DEMOTE);
            armDrain(() -> drained.complete(null));
        }
        return drained;
    }

    boolean holdsForDemotion() {
        synchronized (lock) {
            return hold == Hold.DEMOTE;
        }
    }

    /** Ends a demotion's hold; a volume still PRIMARY (the demotion failed or timed out) tries its restore again. */
    void releaseDemoteHold() {
        synchronized (lock) {
            if (hold == Hold.DEMOTE) {
                cancelDrain();
                endHold();
                if (mode == Mode.LOGGING) {
                    tryRestore(); // a restore that came during the hold waited for it
                }
            }
        }
    }

    private long startHold(Hold owner) {
        hold = owner;
        holdSeq++;
        holdStartedMillis = clock.millis();
        return holdSeq;
    }

    /** Releases held writes (admitted in the mode current now, on the I/O executor). Under lock. */
    private void endHold() {
        if (holdTimer != null) {
            holdTimer.cancel();
            holdTimer = null;
        }
        if (hold == Hold.NONE) {
            return;
        }
        if (hold == Hold.CUTOVER) {
            lastHoldMillis = clock.millis() - holdStartedMillis;
        }
        hold = Hold.NONE;
        if (!waiting.isEmpty()) {
            List<CompletableFuture<Admission>> release = waiting;
            waiting = new ArrayList<>();
            Admission a = new Admission(mode, inFlight.admit(release.size()));
            io.execute(() -> release.forEach(f -> f.complete(a)));
        }
    }

    /** Runs {@code continuation} under lock once no write is in flight. Under lock, with a hold set. */
    private void armDrain(Runnable continuation) {
        onDrained = continuation;
        drainArmed = true;
        if (inFlight.total() == 0) {
            io.execute(this::drained);
        }
    }

    private void cancelDrain() {
        onDrained = null;
        drainArmed = false;
    }

    private void drained() {
        synchronized (lock) {
            if (resync != null) {
                resync.announceDrained(inFlight);
            }
            if (!drainArmed || inFlight.total() != 0) {
                return;
            }
            Runnable k = onDrained;
            cancelDrain();
            if (k != null) {
                k.run();
            }
        }
    }

    // ---------------------------------------------------------------- retry

    /** LOGGING with the link up and the volume attached: try the restore again after the retry delay. Under lock. */
    private void armRetry() {
        cancelRetry();
        if (!linkUp || lastPeer == null || !lastPeer.attached()) {
            return;
        }
        long epoch = linkEpoch;
        retryTimer = timer.schedule(() -> {
            synchronized (lock) {
                if (epoch == linkEpoch && linkUp) {
                    tryRestore();
                }
            }
        }, policy.retryDelay());
    }

    private void cancelRetry() {
        if (retryTimer != null) {
            retryTimer.cancel();
            retryTimer = null;
        }
    }

    // ---------------------------------------------------------------- mode changes and the invariant

    /** Under lock: REPLICATING if the invariant allows it, else a bug report and LOGGING. */
    private void enterReplicating(String why) {
        long dirty = tracker.dirtyRegionCount();
        long writes = inFlight.total();
        if (dirty > 0 || writes > 0) {
            violated("entering REPLICATING (" + why + ") with " + dirty + " dirty region(s) and " + writes + " write(s) in flight");
            return;
        }
        setMode(Mode.REPLICATING, why);
        roles.enteredReplicating();
    }

    /**
     * A mark set regions dirty for the first time: in REPLICATING that breaks the invariant (every
     * marking path leaves REPLICATING first). Called on a bitmap flusher thread, so it takes no
     * lock here: the check is handed to the I/O executor.
     */
    void marked(long firstTouches) {
        if (firstTouches == 0 || mode != Mode.REPLICATING) {
            return;
        }
        io.execute(() -> {
            synchronized (lock) {
                if (mode == Mode.REPLICATING) {
                    violated(firstTouches + " region(s) marked dirty while REPLICATING");
                }
            }
        });
    }

    private void violated(String detail) {
        LOG.error("volume {}: BUG, please report: the replication invariant was violated: {}; going to LOGGING so a resync repairs it",
                volume, detail);
        observer.invariantViolated(volume, detail);
        setMode(Mode.LOGGING, "invariant violated (" + detail + "); a resync repairs it");
        armRetry();
    }

    /** Under lock (or during construction). */
    void setMode(Mode to, String why) {
        Mode from = mode;
        mode = to;
        reason = why;
        LOG.info("volume {}: {} -> {} ({})", volume, from, to, why);
        observer.modeChanged(volume, from, to, why);
        if (to == Mode.LOGGING) {
            armRetry();
        }
    }

    /** Under lock: a reason without a mode change. */
    void setReason(String why) {
        reason = why;
    }

    boolean linkUp() {
        synchronized (lock) {
            return linkUp;
        }
    }
}
