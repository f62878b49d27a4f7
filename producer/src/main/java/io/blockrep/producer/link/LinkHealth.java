package io.blockrep.producer.link;

/**
 * The time-based verdicts of one connection: ack timeout, lost heartbeats, when to PING, when
 * damping has passed. Pure logic on nanosecond timestamps, so it is tested with made-up times.
 * Not thread-safe: {@link ReplicationLink} calls it under its lock.
 */
final class LinkHealth {
    private final long ackTimeout;
    private final long heartbeat;
    private final long silenceLimit;
    private final long damping;
    private final long connectedAt;
    private long lastReceived;
    private long lastPing;
    private boolean heardSinceConnect;

    LinkHealth(LinkConfig config, long connectedAt) {
        this(config, connectedAt, false);
    }

    /**
     * @param trusted the connection replaces a healthy one that this side dropped on purpose (a role or
     *        generation change), not one that was lost: no damping, and the handshake counts as the
     *        peer's answer
     */
    LinkHealth(LinkConfig config, long connectedAt, boolean trusted) {
        this.ackTimeout = config.ackTimeout().toNanos();
        this.heartbeat = config.heartbeatInterval().toNanos();
        this.silenceLimit = config.silenceLimit().toNanos();
        this.damping = trusted ? 0 : config.damping().toNanos();
        this.connectedAt = connectedAt;
        this.lastReceived = connectedAt;
        this.lastPing = connectedAt - heartbeat;
        this.heardSinceConnect = trusted;
    }

    void frameReceived(long now) {
        lastReceived = now;
        heardSinceConnect = true;
    }

    void pingSent(long now) {
        lastPing = now;
    }

    /** Time since the last PING was sent: a PONG's round trip when called as it arrives. */
    long sinceLastPing(long now) {
        return now - lastPing;
    }

    boolean pingDue(long now) {
        return now - lastPing >= heartbeat;
    }

    /**
     * Why the connection must be considered down at {@code now}, or null when it is fine.
     *
     * @param oldestSentAt send time of the oldest unacknowledged request, or {@code Long.MIN_VALUE} when none
     */
    String failure(long now, long oldestSentAt) {
        if (oldestSentAt != Long.MIN_VALUE && now - oldestSentAt > ackTimeout) {
            return "no ACK within the ack timeout of " + ms(ackTimeout);
        }
        if (now - lastReceived > silenceLimit) {
            return "no frame from the peer for " + ms(now - lastReceived) + " (limit " + ms(silenceLimit) + ")";
        }
        return null;
    }

    /** True once the connection lived through the damping interval and the peer answered at least once. */
    boolean dampingPassed(long now) {
        return heardSinceConnect && now - connectedAt >= damping;
    }

    private static String ms(long nanos) {
        return nanos / 1_000_000 + " ms";
    }
}
