package io.blockrep.testkit.kafka;

import org.testcontainers.kafka.KafkaContainer;

/**
 * The opt-in flavour ({@code -Dblockrep.test.kafka=testcontainers}): Kafka in a Docker container
 * via Testcontainers. Loaded reflectively, so the default flavour never loads a Testcontainers
 * class. The image is {@code -Dblockrep.test.kafka.image}, default {@value #DEFAULT_IMAGE}.
 *
 * <p>Restart is not supported: a restarted container gets a new mapped port, so clients holding
 * the old bootstrap address would not find it again.
 */
final class ContainerKafkaBroker extends AbstractKafkaBroker {
    static final String IMAGE_PROPERTY = "blockrep.test.kafka.image";
    static final String DEFAULT_IMAGE = "apache/kafka:4.3.1";

    private final KafkaContainer container;

    ContainerKafkaBroker() {
        container = new KafkaContainer(System.getProperty(IMAGE_PROPERTY, DEFAULT_IMAGE));
        container.start();
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public boolean isRunning() {
        return container.isRunning();
    }

    @Override
    public boolean supportsRestart() {
        return false;
    }

    @Override
    public void stop() {
        throw new UnsupportedOperationException(
                "the Testcontainers Kafka cannot be restarted on the same port; annotate the test class @EmbeddedKafkaOnly");
    }

    @Override
    public void start() {
        stop();
    }

    @Override
    void closeBroker() {
        container.stop();
    }

    @Override
    public String toString() {
        return "Testcontainers Kafka " + container.getDockerImageName() + " at " + bootstrapServers();
    }
}
