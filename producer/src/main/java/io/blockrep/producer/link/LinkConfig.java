package io.blockrep.producer.link;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.VolumeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the primary side of the link ({@link ReplicationLink}). Validation reports every
 * problem at once.
 *
 * @param ackTimeout        a request not ACKed this long takes the link down
 * @param heartbeatInterval a PING is sent this often
 * @param missedHeartbeats  no frame at all for {@code heartbeatInterval x missedHeartbeats} takes the link down
 * @param connectTimeout    bounds the TCP connect and each handshake step
 * @param backoffMin        first delay between reconnect attempts; doubles per failure
 * @param backoffMax        cap of that delay
 * @param damping           how long a new connection must stay healthy before it counts as restored
 * @param queueByteCap      most data bytes queued or in flight; writers block beyond it
 * @param expectedPeerId    the node id the peer must present, or null for any authenticated peer
 * @param tls               mutual TLS towards the peer, or null for plaintext
 */
public record LinkConfig(String nodeId, HostPort peer, SharedSecret secret, Duration ackTimeout,
                         Duration heartbeatInterval, int missedHeartbeats, Duration connectTimeout,
                         Duration backoffMin, Duration backoffMax, Duration damping, long queueByteCap, String expectedPeerId,
                         LinkTls tls) {

    /** A plaintext link. */
    public LinkConfig(String nodeId, HostPort peer, SharedSecret secret, Duration ackTimeout, Duration heartbeatInterval,
                      int missedHeartbeats, Duration connectTimeout, Duration backoffMin, Duration backoffMax, Duration damping,
                      long queueByteCap, String expectedPeerId) {
        this(nodeId, peer, secret, ackTimeout, heartbeatInterval, missedHeartbeats, connectTimeout, backoffMin, backoffMax, damping,
                queueByteCap, expectedPeerId, null);
    }

    /** A link that accepts any authenticated peer node id. */
    public LinkConfig(String nodeId, HostPort peer, SharedSecret secret, Duration ackTimeout, Duration heartbeatInterval,
                      int missedHeartbeats, Duration connectTimeout, Duration backoffMin, Duration backoffMax, Duration damping,
                      long queueByteCap) {
        this(nodeId, peer, secret, ackTimeout, heartbeatInterval, missedHeartbeats, connectTimeout, backoffMin, backoffMax, damping,
                queueByteCap, null, null);
    }

    public LinkConfig {
        List<String> problems = new ArrayList<>();
        if (!VolumeId.isValid(nodeId)) {
            problems.add("node id '" + nodeId + "' must be 1-63 of a-z, 0-9, '-'");
        }
        if (peer == null || peer.port() == 0) {
            problems.add("peer address must be host:port with a non-zero port, got " + peer);
        }
        if (secret == null) {
            problems.add("the link secret is missing");
        }
        LinkServerConfig.positive(problems, "ack timeout", ackTimeout);
        LinkServerConfig.positive(problems, "heartbeat interval", heartbeatInterval);
        LinkServerConfig.positive(problems, "connect timeout", connectTimeout);
        LinkServerConfig.positive(problems, "backoff min", backoffMin);
        LinkServerConfig.positive(problems, "backoff max", backoffMax);
        LinkServerConfig.positive(problems, "damping interval", damping);
        if (missedHeartbeats < 1) {
            problems.add("missed heartbeats must be at least 1, got " + missedHeartbeats);
        }
        if (backoffMin != null && backoffMax != null && backoffMax.compareTo(backoffMin) < 0) {
            problems.add("backoff max " + backoffMax + " is below backoff min " + backoffMin);
        }
        if (queueByteCap < LinkFrame.MAX_DATA) {
            problems.add("queue byte cap must be at least one maximal write (" + LinkFrame.MAX_DATA + " bytes), got " + queueByteCap);
        }
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
    }

    /** Ack timeout 5 s, heartbeat 1 s x 3, connect 5 s, backoff 100 ms..30 s, damping 10 s, queue 64 MiB. */
    public static LinkConfig defaults(String nodeId, HostPort peer, SharedSecret secret) {
        return new LinkConfig(nodeId, peer, secret, Duration.ofSeconds(5), Duration.ofSeconds(1), 3,
                Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofSeconds(30), Duration.ofSeconds(10), 64L << 20);
    }

    /** This link over mutual TLS ({@code tls} null: plaintext). */
    public LinkConfig withTls(LinkTls tls) {
        return new LinkConfig(nodeId, peer, secret, ackTimeout, heartbeatInterval, missedHeartbeats, connectTimeout, backoffMin,
                backoffMax, damping, queueByteCap, expectedPeerId, tls);
    }

    /** Silence that takes the link down: {@code heartbeatInterval x missedHeartbeats}. */
    public Duration silenceLimit() {
        return heartbeatInterval.multipliedBy(missedHeartbeats);
    }
}
