package io.blockrep.testkit.kafka;

import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * A Kafka broker for one test class, handed out by {@link KafkaBrokerExtension}. The extension
 * owns it: tests may stop and start it but must not close it.
 *
 * <p>Thread-safe: tests may call it from any thread.
 */
public interface KafkaBroker {

    /** {@code host:port} for clients; the same before and after {@link #stop()}/{@link #start()}. */
    String bootstrapServers();

    boolean isRunning();

    /**
     * Whether {@link #stop()} and {@link #start()} are supported. True for the embedded broker;
     * false for the Testcontainers flavour, whose mapped port would change on restart. A test class
     * that restarts the broker is annotated {@link EmbeddedKafkaOnly} and so always gets the embedded one.
     */
    boolean supportsRestart();

    /**
     * Shuts the broker down, keeping its data and address. Does nothing if already stopped.
     *
     * @throws UnsupportedOperationException if {@link #supportsRestart()} is false
     */
    void stop();

    /**
     * Starts a stopped broker on the same address with the same data; blocks until it serves.
     *
     * @throws UnsupportedOperationException if {@link #supportsRestart()} is false
     */
    void start();

    /** An admin client for this broker, shared by the test class and closed with the broker. */
    Admin admin();

    /** Creates a topic with replication factor 1 and waits for it; {@code configs} may be empty. */
    void createTopic(String name, int partitions, Map<String, String> configs);
}
