package io.blockrep.producer.replication;

/** Mode of a primary volume; see DESIGN.md "Modes of a primary volume". */
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
    SPLIT_BRAIN
}
