package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: a rate limit whose wait per data set (dataset.bytes / rate) exceeds the secondary's
 * link idle timeout must slow the resync down, not stop it. The copier asks the secondary for hashes,
 * then waits for the rate limiter with the connection idle; the secondary closes the idle connection,
 * the send fails with "Broken pipe", the step is retried from the start, and waits again: no data set
 * is ever applied.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ReplayerRateLimitIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void aSlowRateWithLargeDataSetsStillFinishesTheResync(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            ScatteredWrites.write(sites.primaryUri(), SIZE, 8L << 20, 3);

            Properties p = ResyncIT.replayerProps(kafka, sites, "r-rate");
            // 4 MiB sets at 1 MiB/s: about 3 s of waiting per set; TwoSites' secondary drops a link idle for 2 s.
            p.setProperty("replayer.rate", "1M");
            p.setProperty("replayer.dataset.bytes", "4M");
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(p, Map.of()))) {
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(45)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            }
            ScatteredWrites.flush(sites.primaryUri());
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }
}
