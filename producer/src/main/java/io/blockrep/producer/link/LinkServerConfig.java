package io.blockrep.producer.link;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.VolumeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the secondary side of the link.
 *
 * @param nodeId           this facility's node id, sent in AUTH_CHALLENGE and HELLO
 * @param host             listen address; 127.0.0.1 by default
 * @param port             listen port; 0 picks a free one
 * @param handshakeTimeout deadline of the whole handshake (TLS, auth, HELLO), counted from the accept, however
 *                         slowly the peer sends
 * @param idleTimeout      a connection that sends nothing (not even PING) this long is closed
 * @param maxUnauthenticated most connections still in their handshake at once; more are refused at accept
 * @param tls              mutual TLS for every connection, or null for plaintext
 */
public record LinkServerConfig(String nodeId, String host, int port, SharedSecret secret,
                               Duration handshakeTimeout, Duration idleTimeout, int maxUnauthenticated, LinkTls tls) {
    /** Default cap of connections in their handshake (producer.link.unauthenticated.max). */
    public static final int DEFAULT_MAX_UNAUTHENTICATED = 16;

    /** Plaintext, at most {@value #DEFAULT_MAX_UNAUTHENTICATED} connections in their handshake. */
    public LinkServerConfig(String nodeId, String host, int port, SharedSecret secret, Duration handshakeTimeout, Duration idleTimeout) {
        this(nodeId, host, port, secret, handshakeTimeout, idleTimeout, DEFAULT_MAX_UNAUTHENTICATED, null);
    }

    public LinkServerConfig {
        List<String> problems = new ArrayList<>();
        if (!VolumeId.isValid(nodeId)) {
            problems.add("node id '" + nodeId + "' must be 1-63 of a-z, 0-9, '-'");
        }
        if (host == null || host.isBlank()) {
            problems.add("listen host is empty");
        }
        if (port < 0 || port > 65535) {
            problems.add("listen port " + port + " is outside 0..65535");
        }
        if (secret == null) {
            problems.add("the link secret is missing");
        }
        positive(problems, "handshake timeout", handshakeTimeout);
        positive(problems, "idle timeout", idleTimeout);
        if (maxUnauthenticated < 1) {
            problems.add("the cap of unauthenticated connections must be at least 1, got " + maxUnauthenticated);
        }
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
    }

    /** Loopback, free port, 10 s handshake, 60 s idle. */
    public static LinkServerConfig defaults(String nodeId, SharedSecret secret) {
        return new LinkServerConfig(nodeId, "127.0.0.1", 0, secret, Duration.ofSeconds(10), Duration.ofSeconds(60));
    }

    public LinkServerConfig withIdleTimeout(Duration idle) {
        return new LinkServerConfig(nodeId, host, port, secret, handshakeTimeout, idle, maxUnauthenticated, tls);
    }

    public LinkServerConfig withTls(LinkTls tls) {
        return new LinkServerConfig(nodeId, host, port, secret, handshakeTimeout, idleTimeout, maxUnauthenticated, tls);
    }

    public LinkServerConfig withMaxUnauthenticated(int max) {
        return new LinkServerConfig(nodeId, host, port, secret, handshakeTimeout, idleTimeout, max, tls);
    }

    public LinkServerConfig withHandshakeTimeout(Duration timeout) {
        return new LinkServerConfig(nodeId, host, port, secret, timeout, idleTimeout, maxUnauthenticated, tls);
    }

    static void positive(List<String> problems, String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            problems.add(what + " must be a positive duration, got " + d);
        } else if (d.toMillis() > Integer.MAX_VALUE) {
            problems.add(what + " " + d + " is too long");
        }
    }
}
