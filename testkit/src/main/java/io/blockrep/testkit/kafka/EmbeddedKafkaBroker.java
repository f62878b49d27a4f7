package io.blockrep.testkit.kafka;

import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The default flavour: {@link EmbeddedKafka} in a temp directory on free loopback ports. */
final class EmbeddedKafkaBroker extends AbstractKafkaBroker {
    private final Path dir;
    private final EmbeddedKafka kafka;

    EmbeddedKafkaBroker() throws IOException {
        dir = Files.createTempDirectory("blockrep-kafka-");
        kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(dir).build());
        try {
            kafka.start();
        } catch (RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    @Override
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public boolean isRunning() {
        return kafka.isRunning();
    }

    @Override
    public boolean supportsRestart() {
        return true;
    }

    @Override
    public void stop() {
        kafka.stop();
    }

    @Override
    public void start() {
        kafka.start();
    }

    @Override
    void closeBroker() throws IOException {
        try {
            kafka.close();
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public String toString() {
        return "embedded Kafka at " + kafka.bootstrapServers() + " in " + dir;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
