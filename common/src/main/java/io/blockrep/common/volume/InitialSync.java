package io.blockrep.common.volume;

/**
 * Where a volume's initial synchronisation stands, persisted in its metadata. A PRIMARY created
 * over existing data (or run without a peer, when its writes are not tracked) is {@link Phase#PENDING}:
 * its data may differ from any peer's copy, and no region of it is marked dirty yet. The facility
 * that first runs it with a peer scans it, marks every region holding data dirty and records
 * {@link Phase#RUNNING} with that count; the ordinary resync then copies them, and the volume is
 * {@link #NONE} once it first reaches REPLICATING.
 *
 * @param regions the regions marked for the initial sync (RUNNING), else 0
 */
public record InitialSync(Phase phase, long regions) {
    public static final InitialSync NONE = new InitialSync(Phase.NONE, 0);
    public static final InitialSync PENDING = new InitialSync(Phase.PENDING, 0);

    public enum Phase {
        /** Nothing to do: the copy started empty, was declared clean, or its initial sync completed. */
        NONE,
        /** The data may differ from the peer's; the regions to copy are not marked yet. */
        PENDING,
        /** The regions holding data are marked dirty; the resync is copying them. */
        RUNNING
    }

    public InitialSync {
        java.util.Objects.requireNonNull(phase, "phase");
        if (regions < 0) {
            throw new IllegalArgumentException("negative region count " + regions);
        }
    }

    public static InitialSync running(long regions) {
        return new InitialSync(Phase.RUNNING, regions);
    }
}
