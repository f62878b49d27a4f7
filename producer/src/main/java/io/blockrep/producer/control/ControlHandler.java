package io.blockrep.producer.control;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.roaringbitmap.RoaringBitmap;

/** What the control API can ask of a facility. Implementations are thread-safe. */
public interface ControlHandler {
    FacilityStatus status();

    /** An operator approves the resync of a volume waiting in AWAITING_APPROVAL. */
    void approve(String volume);

    /**
     * The replayer copied every region of the eras it names, each with its era-closed marker's region
     * count ({@code regionCountByEra}) and the regions it copied ({@code copied}); the facility drops
     * exactly those eras and moves on. Refused with
     * an {@link io.blockrep.common.InvalidInputException}, nothing dropped, when an era is not pending or
     * its count differs from the era's bitmap.
     */
    void erasReplayed(String volume, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied);

    /** A copy's progress ({@code "partial":true} on {@code replayed}): regions of pending eras the replica holds; drops nothing. */
    void regionsCopied(String volume, Map<Long, RoaringBitmap> copied);

    /** Marks regions found to differ from the replica dirty; returns how many were newly marked. */
    long markDiffering(String volume, List<Long> regions);

    /** A verify of {@code volume}'s copies finished (the replayer's scheduled one or the ops verb's); status shows the last. */
    void verified(String volume, VolumeStatus.VerifyResult result);

    /** The replayer's progress on {@code volume}, shown by status. */
    void replayProgress(String volume, VolumeStatus.ReplayProgress progress);

    /**
     * SECONDARY → PRIMARY for {@code volume}. Refused while the peer is connected and PRIMARY for it,
     * or while this copy is inconsistent, unless {@code force}.
     */
    RoleChange promote(String volume, boolean force);

    /** PRIMARY → SECONDARY for {@code volume}. Refused while NBD clients hold its export writable, unless {@code force}. */
    RoleChange demote(String volume, boolean force);

    /** Every region this side has dirty for {@code volume} (its changes the peer may lack), as runs. */
    DirtyRegions dirtyRegions(String volume);

    /** {@code length} bytes of {@code volume} at {@code offset} (for saving a split-brain loser's writes). */
    byte[] read(String volume, long offset, int length);

    /**
     * On the survivor of a split brain: marks the loser's regions dirty here, durably; returns how many
     * were new. {@code fullCopy}: the regions are the whole volume, for a full copy onto the peer.
     */
    long mergeLoserRegions(String volume, List<long[]> runs, boolean fullCopy);

    /** On a SECONDARY about to take a full copy: drops its changes and takes the primary's current generation. */
    long adoptForFullCopy(String volume, long generation, String sourceNode);

    /** On the loser of a split brain (SECONDARY by now): drops its own changes and goes back to generation {@code common}. */
    long discardOwnChanges(String volume, long common);

    /** Administratively drops the replication link and stops reconnecting (an operator's or a demo's link cut). */
    void cutLink();

    /** Undoes {@link #cutLink()}: the facility probes the peer again. */
    void restoreLink();
}
