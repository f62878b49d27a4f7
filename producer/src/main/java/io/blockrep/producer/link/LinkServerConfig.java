package io.blockrep.producer.link;

import io.blockrep.common.InvalidInputException;
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
 * @param handshakeTimeout longest wait for each handshake frame (auth, HELLO)
 * @param idleTimeout      a connection that sends nothing (not even PING) this long is closed
 */
public record LinkServerConfig(String nodeId, String host, int port, SharedSecret secret,
                               Duration handshakeTimeout, Duration idleTimeout) {
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
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
    }

    /** Loopback, free port, 10 s handshake, 60 s idle. */
    public static LinkServerConfig defaults(String nodeId, SharedSecret secret) {
        return new LinkServerConfig(nodeId, "127.0.0.1", 0, secret, Duration.ofSeconds(10), Duration.ofSeconds(60));
    }

    public LinkServerConfig withIdleTimeout(Duration idle) {
        return new LinkServerConfig(nodeId, host, port, secret, handshakeTimeout, idle);
    }

    static void positive(List<String> problems, String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            problems.add(what + " must be a positive duration, got " + d);
        } else if (d.toMillis() > Integer.MAX_VALUE) {
            problems.add(what + " " + d + " is too long");
        }
    }
}
