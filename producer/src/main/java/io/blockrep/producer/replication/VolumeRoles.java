package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.producer.dirty.DirtyLog;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Roles and generations of one volume: what the peer said of its copy, split brain, a PRIMARY
 * becoming SECONDARY when the peer is newer, promote and demote's role changes, the generation a
 * first logged write makes, and the histories the peer adopts. Every role or generation change is
 * persisted (through {@link VolumeHandle}) before it takes effect.
 *
 * <p>Methods that change the mode run under the {@link ModeMachine}'s lock: those called by the
 * machine already hold it, the public entry points of {@link ReplicatedVolume} take it. Messages to
 * the peer are sent from the I/O executor, never under the lock.
 */
final class VolumeRoles {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeRoles.class);

    private final String volume;
    private final String node;
    private final VolumeHandle handle;
    private final DirtyLog tracker;
    private final ReplicaSink sink;
    private final VolumeObserver observer;
    private final Clock clock;
    private final Executor io;
    private final Runnable reoffer;
    private final ModeMachine machine;
    private volatile ReplicatedVolume.PeerState peerState;
    /** The peer refused to attach this volume at the last handshake of this side's link. */
    private volatile boolean refusedByPeer;

    VolumeRoles(VolumeHandle handle, DirtyLog tracker, ReplicaSink sink, VolumeObserver observer, ReplicatedVolume.Services services,
            ModeMachine machine) {
        this.volume = handle.volume().id();
        this.node = services.node();
        this.handle = handle;
        this.tracker = tracker;
        this.sink = sink;
        this.observer = observer;
        this.clock = services.clock();
        this.io = services.io();
        this.reoffer = services.reoffer();
        this.machine = machine;
    }

    Role role() {
        return handle.metadata().role();
    }

    ReplicatedVolume.PeerState peerState() {
        return peerState;
    }

    boolean refusedByPeer() {
        return refusedByPeer;
    }

    // ---------------------------------------------------------------- the peer's view

    /** Remembers how the handshake described the peer's copy. Under the machine's lock. */
    void peerSeen(PeerView peer) {
        if (peer.info() != null) {
            recordPeer(peer.peerNode(), peer.info().role(), peer.info().history(), peer.attachStatus() + " " + peer.attachMessage());
        }
    }

    /** Remembers how the peer described its copy and what the generations decide. */
    void recordPeer(String peerNode, Role peerRole, List<Generation> peerHistory, String detail) {
        if (peerHistory.isEmpty()) {
            return;
        }
        GenerationHistory theirs = new GenerationHistory(peerHistory, peerHistory.get(0).generationId(), true);
        SyncDecision decision = SyncDecision.decide(handle.metadata().generations(), theirs);
        ReplicatedVolume.PeerState previous = peerState;
        peerState = new ReplicatedVolume.PeerState(peerNode, peerRole, decision, theirs.current().idText(), detail.trim());
        if (previous == null || previous.decision() != decision) {
            LOG.info("volume {}: generations compared with {} ({} {}): {}", volume, peerNode, peerRole, theirs.current().idText(), decision);
            observer.syncDecided(volume, peerNode, decision, detail.trim());
        }
    }

    /**
     * True when the peer attached this volume. Otherwise the generation histories decide: split
     * brain → SPLIT_BRAIN (keeps logging); the peer newer and PRIMARY while this side took no write
     * of its own since their common generation → this side becomes SECONDARY (its copy is resynced
     * from the peer); anything else stays LOGGING with the peer's reason. Under the machine's lock.
     */
    boolean attachedBy(PeerView peer) {
        refusedByPeer = !peer.attached();
        if (peer.attached()) {
            return true;
        }
        ReplicatedVolume.PeerState state = peerState;
        SyncDecision decision = state == null || peer.info() == null ? null : state.decision();
        String why = peer.attachMessage().isEmpty() ? String.valueOf(peer.attachStatus()) : peer.attachMessage();
        if (decision == SyncDecision.SPLIT_BRAIN) {
            if (machine.mode() != Mode.SPLIT_BRAIN) {
                machine.setMode(Mode.SPLIT_BRAIN, "split brain with " + peer.peerNode() + ": both sides took writes since their last common "
                        + "generation; nothing is copied until blockrep resolve " + volume + " --primary NODE");
            }
        } else if (decision == SyncDecision.PEER_NEWER && peer.info().role() == Role.PRIMARY && handle.metadata().generations().shared()
                && tracker.dirtyRegionCount() == 0) {
            becomeSecondary("peer " + peer.peerNode() + " is PRIMARY with newer data (generation " + state.currentGeneration()
                    + "); this copy took no write since and becomes its resync target");
            io.execute(reoffer); // the peer attaches this copy once it sees it SECONDARY
        } else {
            machine.setReason("peer " + peer.peerNode() + " did not attach it: " + why);
            LOG.warn("volume {}: peer {} did not attach it: {}", volume, peer.peerNode(), why);
        }
        return false;
    }

    /** Both copies are at {@code current} now (the secondary adopted the primary's history): the comparison is SAME. */
    private void peerHolds(Generation current) {
        ReplicatedVolume.PeerState p = peerState;
        if (p != null) {
            peerState = new ReplicatedVolume.PeerState(p.peerNode(), p.peerRole(), SyncDecision.SAME, current.idText(), "in sync");
        }
    }

    // ---------------------------------------------------------------- generations

    /**
     * Both copies hold the same data now: this side's generation is shared, and the peer adopts this
     * side's history (it is consistent again). Shared is recorded before the peer is told, so a peer
     * that adopted it is never ahead of what this side believes. Under the machine's lock.
     */
    void enteredReplicating() {
        GenerationHistory shared = handle.update(m -> m.withGenerations(m.generations().markShared())).generations();
        io.execute(() -> sink.generation(volume, true, shared.entries()).whenComplete((v, e) -> {
            if (e != null) {
                LOG.info("volume {}: the peer did not adopt generation {}: {}", volume, shared.current().idText(), unwrap(e).toString());
            } else {
                peerHolds(shared.current());
            }
        }));
    }

    /** The peer's copy becomes a mix of old and new until the cutover: tell it (it also marks itself at the first data set). */
    void resyncBegun() {
        List<Generation> history = handle.metadata().generations().entries();
        io.execute(() -> sink.generation(volume, false, history).whenComplete((v, e) -> {
            if (e != null) {
                LOG.warn("volume {}: could not tell the peer its copy is being resynchronised: {} (it marks itself inconsistent at the "
                        + "first data set)", volume, unwrap(e).toString());
            }
        }));
    }

    /**
     * The first write this side logs while the peer holds its current generation makes a new
     * generation, durably, before that write goes on: from now on this copy has data the peer
     * lacks, and a reconnect must see it.
     */
    void divergeIfShared() {
        if (role() == Role.PRIMARY && handle.metadata().generations().shared()) {
            VolumeMetadata m = handle.update(meta -> meta.generations().shared()
                    ? meta.withGenerations(meta.generations().diverge(node, clock.millis())) : meta);
            LOG.info("volume {}: new generation {} (writes the peer does not have)", volume, m.generations().current().idText());
        }
    }

    /**
     * On a SECONDARY: the primary says where the resync of this copy stands. Begun: the copy is
     * inconsistent until it ends. Ended ({@code inSync}): the copy equals the primary's, so it takes
     * the primary's generation history and is consistent. Persisted before it returns.
     */
    void peerGeneration(boolean inSync, List<Generation> history) {
        synchronized (machine.lock) {
            if (role() != Role.SECONDARY) {
                throw new InvalidInputException("volume '" + volume + "' is " + role() + " here; only a SECONDARY takes the peer's generation");
            }
            VolumeMetadata m = handle.update(meta -> inSync
                    ? meta.withGenerations(GenerationHistory.adoptedFrom(history)).withConsistent(true)
                    : meta.withConsistent(false));
            LOG.info("volume {}: {} (generation {})", volume, inSync ? "in sync with the primary" : "resync into this copy begun; inconsistent until it ends",
                    m.generations().current().idText());
            machine.setReason(inSync ? "in sync with the primary" : "being resynchronised from the primary (inconsistent until the cutover)");
            if (inSync) {
                peerHolds(m.generations().current());
            }
        }
    }

    // ---------------------------------------------------------------- role changes

    /**
     * SECONDARY → PRIMARY: the export becomes writable and, with the peer unreachable, writes are
     * logged in this side's own bitmaps and dirty records. An inconsistent copy (a resync into it
     * was under way) is refused unless {@code force}. The role is persisted before it takes effect.
     */
    void promote(boolean force, String reason) {
        synchronized (machine.lock) {
            if (role() == Role.PRIMARY) {
                throw new InvalidInputException("volume '" + volume + "' is already PRIMARY here");
            }
            if (!handle.metadata().consistent() && !force) {
                throw new InvalidInputException("volume '" + volume + "' is inconsistent here (a resync into it did not finish); "
                        + "promoting it would serve a mix of old and new data. Use --force to promote it anyway");
            }
            handle.update(m -> m.withRole(Role.PRIMARY).withConsistent(true));
            observer.roleChanged(volume, Role.SECONDARY, Role.PRIMARY, reason);
            if (sink == null) {
                machine.setMode(Mode.STANDALONE, "promoted; no peer configured");
            } else {
                machine.setMode(Mode.LOGGING, "promoted; writes are logged until the peer attaches");
            }
        }
    }

    /** Persists SECONDARY and switches the mode. Under the machine's lock. */
    void becomeSecondary(String reason) {
        handle.update(m -> m.withRole(Role.SECONDARY));
        observer.roleChanged(volume, Role.PRIMARY, Role.SECONDARY, reason);
        machine.setMode(Mode.SECONDARY, reason);
    }

    /**
     * Split brain resolved against this side (it is SECONDARY already): its own changes were merged
     * into the survivor's dirty set, so its eras are dropped and its generation goes back to
     * {@code common}, the newest one both sides share. Returns how many (era, region) records were
     * dropped. Idempotent.
     */
    long discardOwnChanges(long common) {
        synchronized (machine.lock) {
            GenerationHistory g = handle.metadata().generations();
            if (!g.contains(common)) {
                throw new InvalidInputException("volume '" + volume + "': generation " + String.format("%016x", common)
                        + " is not in this side's history " + g.entries().stream().map(Generation::idText).toList());
            }
            return dropOwnChanges(meta -> meta.generations().rewindTo(common), "split brain resolved");
        }
    }

    /**
     * A full copy onto this SECONDARY (its copy is unrelated, or untrusted): its own changes are
     * dropped and it takes {@code source}, the primary's current generation, as its only one.
     */
    long adoptForFullCopy(Generation source) {
        synchronized (machine.lock) {
            return dropOwnChanges(meta -> new GenerationHistory(List.of(source), source.generationId(), true), "full copy from the primary");
        }
    }

    /** Drops every era of this SECONDARY and sets its generation history; inconsistent until the resync ends. Under the lock. */
    private long dropOwnChanges(Function<VolumeMetadata, GenerationHistory> history, String why) {
        if (role() != Role.SECONDARY) {
            throw new InvalidInputException("volume '" + volume + "' is " + role() + " here; demote it before discarding its changes");
        }
        long dropped = 0;
        if (tracker != null) {
            dropped = tracker.dirtyRegionCount();
            tracker.closeEra();
            for (long era : tracker.pendingEras()) {
                tracker.dropEra(era);
            }
        }
        VolumeMetadata m = handle.update(meta -> meta.withGenerations(history.apply(meta)).withConsistent(false));
        machine.setReason("own changes discarded (" + why + "); generation " + m.generations().current().idText()
                + "; waiting for the resync from the primary");
        LOG.warn("volume {}: {} dirty record(s) discarded ({}); generation now {}", volume, dropped, why, m.generations().current().idText());
        return dropped;
    }

    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
