package io.blockrep.cli;

import io.blockrep.producer.Facility;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The replayer configuration the cli tests share: one replayer for {@code volumes}, each replicated
 * between every node given (in that order), each node reached directly on 127.0.0.1 (not through a
 * proxy a test cuts). Callers add or override keys (rate, data-set size, Kafka client settings).
 */
public final class ReplayerProperties {
    private ReplayerProperties() {
    }

    /** A facility as the replayer reaches it: its node id, link port and control port on 127.0.0.1. */
    public record Node(String id, int link, int control) {
        /** An in-JVM facility's node id and bound ports. */
        public static Node of(Facility facility) {
            return new Node(facility.nodeId(), facility.linkPort(), facility.controlPort());
        }
    }

    /**
     * {@code replayer.id} {@code id}, Kafka at {@code bootstrap}, the link {@code secret}, a link timeout
     * of 5 s, and {@code volumes} on {@code nodes}.
     */
    public static Properties of(String id, String bootstrap, String secret, List<String> volumes, Node... nodes) {
        Properties p = new Properties();
        p.setProperty("replayer.id", id);
        p.setProperty("replayer.kafka.bootstrap.servers", bootstrap);
        p.setProperty("replayer.link.secret", secret);
        p.setProperty("replayer.link.timeout", "5s");
        String ids = Stream.of(nodes).map(Node::id).collect(Collectors.joining(","));
        p.setProperty("replayer.nodes", ids);
        for (Node n : nodes) {
            p.setProperty("replayer.node." + n.id() + ".link", "127.0.0.1:" + n.link());
            p.setProperty("replayer.node." + n.id() + ".control", "127.0.0.1:" + n.control());
        }
        p.setProperty("replayer.volumes", String.join(",", volumes));
        for (String v : volumes) {
            p.setProperty("replayer.volume." + v + ".nodes", ids);
        }
        return p;
    }
}
