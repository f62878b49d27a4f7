package io.blockrep.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The broker of the configured flavour ({@code -Pdocker}: a container) serves the whole class. */
@ExtendWith(KafkaBrokerExtension.class)
class KafkaBrokerExtensionIT {
    private static KafkaBroker fromBeforeAll;

    @BeforeAll
    static void createTopics(KafkaBroker kafka) {
        fromBeforeAll = kafka;
        kafka.createTopic("ext.plain", 1, Map.of());
    }

    @Test
    void sharesOneBrokerPerClassAndCarriesRecords(KafkaBroker kafka) throws Exception {
        assertThat(kafka).isSameAs(fromBeforeAll);
        assertThat(kafka.isRunning()).isTrue();
        produce(kafka, "ext.plain", "x", "y");
        assertThat(consume(kafka, "ext.plain", 2)).containsExactly("x", "y");
    }

    static void produce(KafkaBroker kafka, String topic, String... values) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            for (String v : values) {
                producer.send(new ProducerRecord<>(topic, v, v)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    static List<String> consume(KafkaBroker kafka, String topic, int expected) {
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "ext-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
            }
        }
        return seen;
    }
}
