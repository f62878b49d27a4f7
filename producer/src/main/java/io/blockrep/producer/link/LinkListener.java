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
}
