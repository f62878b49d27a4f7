package io.blockrep.producer.replication;

/** Mode of a volume; see DESIGN.md "Modes of a primary volume". A SECONDARY volume is in {@link #SECONDARY}. */
public enum Mode {
    /** No peer configured: writes are local only and not tracked. */
    STANDALONE,
    /** Every write is applied locally and on the peer before it is acknowledged. */
    REPLICATING,
    /** The peer is unreachable (or was): writes are local and their regions are recorded as dirty. */
    LOGGING,
    /** The link is back, resync waits for an operator's {@code blockrep approve}. */
    AWAITING_APPROVAL,
    RESYNCING,
    CUTOVER,
    /** Both sides took writes since their last common generation: writes are logged, nothing is copied until resolved. */
    SPLIT_BRAIN,
    /** This side holds the peer's copy: read-only to NBD clients, written by the link and the replayer. */
    SECONDARY
}
