package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Reproduction 8 of issue #13: {@code producer.kafka.bootstrap.server} (missing s) and
 * {@code producer.kafka.acks=maybe} passed {@code --check} with exit 0, and the facility ran with
 * Kafka off; the same for {@code replayer.kafka.*}. Both are now configuration problems (exit 78).
 */
class KafkaSettingsCheckTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void producerCheckRefusesAMisspelledKafkaKeyAndABadKafkaValue() throws IOException {
        Path cfg = dir.resolve("site-a.properties");
        Files.writeString(cfg, "producer.node.id=site-a\nproducer.state.dir=" + dir + "\nproducer.volumes=v1\nproducer.volume.v1.size=1G\n"
                + "producer.kafka.bootstrap.server=127.0.0.1:9092\nproducer.kafka.acks=maybe\n");
        Run r = run("producer", "--config", cfg.toString(), "--check");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(78);
        assertThat(r.err()).contains("2 problems")
                .contains("producer.kafka.bootstrap.server: unknown Kafka client setting (did you mean 'producer.kafka.bootstrap.servers'?)")
                .contains("producer.kafka.acks: Invalid value maybe for configuration acks");
    }

    @Test
    void replayerCheckRefusesAMisspelledKafkaKeyAndABadKafkaValue() throws IOException {
        Path cfg = dir.resolve("replayer.properties");
        Files.writeString(cfg, String.join("\n", "replayer.id=r1", "replayer.kafka.bootstrap.servers=127.0.0.1:9092",
                "replayer.link.secret=0123456789abcdef0123", "replayer.nodes=site-a,site-b",
                "replayer.node.site-a.link=127.0.0.1:10810", "replayer.node.site-a.control=127.0.0.1:10811",
                "replayer.node.site-b.link=127.0.0.1:10820", "replayer.node.site-b.control=127.0.0.1:10821",
                "replayer.volumes=demo", "replayer.volume.demo.nodes=site-a,site-b",
                "replayer.kafka.security.protocl=SSL", "replayer.kafka.session.timeout.ms=soon", "") );
        Run r = run("replayer", "--config", cfg.toString(), "--check");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(78);
        assertThat(r.err()).contains("2 problems")
                .contains("replayer.kafka.security.protocl: unknown Kafka client setting (did you mean 'replayer.kafka.security.protocol'?)")
                .contains("replayer.kafka.session.timeout.ms: Invalid value soon for configuration session.timeout.ms");
    }

    @Test
    void validKafkaSecuritySettingsPass() throws IOException {
        Path cfg = dir.resolve("ok.properties");
        Files.writeString(cfg, "producer.node.id=site-a\nproducer.state.dir=" + dir + "\nproducer.volumes=v1\nproducer.volume.v1.size=1G\n"
                + "producer.kafka.bootstrap.servers=127.0.0.1:9093\nproducer.kafka.security.protocol=SASL_SSL\n"
                + "producer.kafka.sasl.mechanism=PLAIN\nproducer.kafka.ssl.truststore.location=/etc/kafka/truststore.p12\n"
                + "producer.kafka.ssl.truststore.type=PKCS12\nproducer.kafka.acks=all\n");
        Run r = run("producer", "--config", cfg.toString(), "--check");
        assertThat(r.exit()).as(r.err()).isZero();
    }
}
