package io.blockrep.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaIT {
    private static final String TOPIC = "blockrep.it";

    @TempDir
    Path dir;

    @Test
    void keepsRecordsAndPortsAcrossStopAndStart() throws Exception {
        try (EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(dir.resolve("kafka")).build())) {
            long t0 = System.nanoTime();
            kafka.start();
            long startMs = (System.nanoTime() - t0) / 1_000_000;
            String bootstrap = kafka.bootstrapServers();
            assertThat(kafka.isRunning()).isTrue();
            assertThat(bootstrap).isEqualTo("127.0.0.1:" + kafka.brokerPort());

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            produce(bootstrap, "a", "b", "c");
            assertThat(consumeAll(bootstrap, 3)).containsExactly("a", "b", "c");

            int brokerPort = kafka.brokerPort();
            int controllerPort = kafka.controllerPort();
            assertListensOnlyOnLoopback(brokerPort);
            assertListensOnlyOnLoopback(controllerPort);

            kafka.stop();
            assertThat(kafka.isRunning()).isFalse();
            assertThat(canConnect(new InetSocketAddress("127.0.0.1", brokerPort))).isFalse();

            t0 = System.nanoTime();
            kafka.start();
            long restartMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(kafka.controllerPort()).isEqualTo(controllerPort);
            produce(bootstrap, "d");
            assertThat(consumeAll(bootstrap, 4)).containsExactly("a", "b", "c", "d");

            System.out.printf("EmbeddedKafkaIT timing: first start %d ms, restart %d ms%n", startMs, restartMs);
        }
    }

    @Test
    void failsClearlyWhenThePortIsTaken() throws Exception {
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(dir.resolve("busy"))
                        .brokerPort(squatter.getLocalPort()).build())) {
            assertThatThrownBy(kafka::start)
                    .isInstanceOf(BrokerPortInUseException.class)
                    .hasMessageContaining("127.0.0.1:" + squatter.getLocalPort())
                    .hasMessageContaining("already in use");
            assertThat(kafka.isRunning()).isFalse();
            assertThat(((BrokerPortInUseException) catchStart(kafka)).exitCode()).isEqualTo(75);
        }
    }

    private static RuntimeException catchStart(EmbeddedKafka kafka) {
        try {
            kafka.start();
            throw new AssertionError("start() should have failed");
        } catch (RuntimeException e) {
            return e;
        }
    }

    /**
     * Every listening socket on the port is bound to 127.0.0.1 (Java's dual-stack sockets show it as
     * the IPv4-mapped {@code [::ffff:127.0.0.1]}), and no other local address answers.
     */
    private static void assertListensOnlyOnLoopback(int port) throws Exception {
        ssListeners(port).ifPresent(locals -> assertThat(locals).isNotEmpty().allMatch(
                a -> a.equals("127.0.0.1:" + port) || a.equals("[::ffff:127.0.0.1]:" + port),
                "bound to 127.0.0.1:" + port));
        for (InetAddress other : nonLoopbackAddresses()) {
            assertThat(canConnect(new InetSocketAddress(other, port)))
                    .as("port %d reachable on %s", port, other).isFalse();
        }
    }

    /** Local addresses of sockets listening on the port, per {@code ss -ltnH}; empty if ss is unavailable. */
    private static Optional<List<String>> ssListeners(int port) throws InterruptedException {
        try {
            Process ss = new ProcessBuilder("ss", "-ltnH").redirectErrorStream(true).start();
            String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!ss.waitFor(10, TimeUnit.SECONDS) || ss.exitValue() != 0) {
                ss.destroyForcibly();
                return Optional.empty();
            }
            List<String> locals = new ArrayList<>();
            for (String line : out.split("\n")) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length >= 4 && cols[3].endsWith(":" + port)) {
                    locals.add(cols[3]);
                }
            }
            return Optional.of(locals);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static List<InetAddress> nonLoopbackAddresses() throws IOException {
        List<InetAddress> out = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nic.isUp() && !nic.isLoopback()) {
                Collections.list(nic.getInetAddresses()).stream()
                        .filter(a -> a instanceof Inet4Address)
                        .forEach(out::add);
            }
        }
        return out;
    }

    private static boolean canConnect(InetSocketAddress address) {
        try (Socket s = new Socket()) {
            s.connect(address, 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void produce(String bootstrap, String... values) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (String v : values) {
                producer.send(new ProducerRecord<>(TOPIC, v, v)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> consumeAll(String bootstrap, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + System.nanoTime());
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(r.value());
                }
            }
        }
        return seen;
    }
}
