package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: the replayer started as {@code java -jar blockrep.jar replayer --config FILE}, without
 * the {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES} that {@code bin/blockrep} adds, must still read
 * the dirty topic. Avro refuses to instantiate the generated {@code io.blockrep.schemas.DirtyRegion}
 * unless its package is trusted, so every dirty record was skipped as poison and the resync never
 * finished.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ShadedJarReplayerIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void theBareJarReplayerReadsDirtyRecordsAndFinishesTheResync(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            ScatteredWrites.write(sites.primaryUri(), SIZE, 4L << 20, 5);

            Properties p = ResyncIT.replayerProps(kafka, sites, "r-bare");
            try (ExternalCommand.Running replayer = BlockrepProcess.startBare("replayer", BlockrepProcess.write(dir.resolve("r.properties"), p))) {
                sites.proxy.restore();
                BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)),
                        () -> !replayer.isAlive() || sites.primary().mode() == Mode.REPLICATING, replayer);
                assertThat(replayer.stderr()).as("no dirty record is poison").doesNotContain("skipping poison record");
            }
            ScatteredWrites.flush(sites.primaryUri());
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }
}
