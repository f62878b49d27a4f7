package io.blockrep.producer.link;

import io.blockrep.common.link.LinkHandshake;

/**
 * Told about the health of a {@link ReplicationLink}. Calls come from the link's supervisor thread,
 * one at a time and in order, alternating: {@code onLinkRestored} (also for the first connection),
 * then {@code onLinkDown}, and so on. A connection that fails before its damping interval passed
 * produces neither call. Implementations must not block for long.
 */
public interface LinkListener {
    /**
     * The link stayed connected, authenticated and answering heartbeats for the damping interval.
     * {@code handshake} tells which offered volumes the peer attached, and how the peer describes
     * each (role, generation history).
     */
    void onLinkRestored(LinkHandshake.Outcome handshake);

    /** A restored link failed; every pending write has already failed with {@link LinkDownException}. */
    void onLinkDown(String reason);

    /** A connection to the peer was made and authenticated (before damping), for metrics. */
    default void onConnected() {
    }

    /**
     * For metrics: a connect attempt failed ({@code kind} "connect") or a connection ended with an error ("session").
     * Called on the link's threads; must not block.
     */
    default void onLinkError(String kind, String reason) {
    }

    /** For metrics: a heartbeat PING was answered after {@code nanos}. Called on the link's receiver thread. */
    default void onRoundTrip(long nanos) {
    }
}
