package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.SecureKafkaBroker;
import io.blockrep.testkit.kafka.TopicContents;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka security pass-through (issue #13, Deliver 7): the facilities publish and read over the
 * broker's SSL listener with mutual TLS ({@code producer.kafka.security.protocol=SSL}, truststore
 * and keystore passed through), and the replayer consumes, tombstones and reports over its
 * SASL_SSL listener (PLAIN); certificates made with keytool. A LOGGING write's dirty record is read
 * back over SSL, and the replayer's resync leaves a byte-identical replica.
 *
 * <p>Always against the embedded {@link SecureKafkaBroker}, also under {@code -Pdocker}: the container
 * flavour has no TLS or SASL listeners.
 */
class KafkaTlsSecurityIT {
    private static final long SIZE = 16L << 20;

    @TempDir
    static Path shared;

    private static SecureKafkaBroker kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void broker() throws IOException {
        kafka = SecureKafkaBroker.start(shared);
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void facilitiesPublishOverSslAndTheReplayerResyncsOverSaslSsl() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.sslBootstrapServers());
        kafka.sslClientSettings().forEach((k, v) -> {
            sites.withPrimaryProperty("producer.kafka." + k, v);
            sites.withSecondaryProperty("producer.kafka." + k, v);
        });
        try (TwoSites s = sites.start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> s.primary().mode() == Mode.REPLICATING);
            s.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> s.primary().mode() == Mode.LOGGING);
            ResyncIT.qemuIo(s.primaryUri(), List.of("write -P 0x5a 1M 64k", "write -P 0x6b 5M 128k"));
            long era = s.primary().era();

            await().atMost(Duration.ofSeconds(30)).until(() -> dirtyRegions(era).size() == 3);
            assertThat(dirtyRegions(era)).containsExactly(16L, 80L, 81L);
            assertThat(s.siteA.status().kafka()).isNotEqualTo("UNREACHABLE");

            Properties r = ResyncIT.replayerProps(kafka.saslSslBootstrapServers(), s, "r-tls");
            kafka.saslSslClientSettings().forEach((k, v) -> r.setProperty("replayer.kafka." + k, v));
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(r, Map.of()))) {
                s.proxy.restore();
                await().atMost(Duration.ofSeconds(60)).until(() -> s.primary().mode() == Mode.REPLICATING);
            }
            ResyncIT.qemuIo(s.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(s.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(s.primaryFile()));
            assertThat(s.primary().dirtyRegions()).isZero();
        }
    }

    /** Regions of site-a's live dirty records of {@code era}, read over the SSL listener. */
    private static List<Long> dirtyRegions(long era) {
        return TopicContents.readAll(kafka.sslBootstrapServers(), kafka.sslClientSettings(), "blockrep.dirty").stream()
                .filter(rec -> rec.value() != null)
                .map(rec -> DirtyKey.parse(rec.key()))
                .filter(k -> k.volume().equals("vol") && k.node().equals("site-a") && k.era() == era && !k.isEraClosed())
                .map(DirtyKey::region).distinct().sorted().toList();
    }
}
