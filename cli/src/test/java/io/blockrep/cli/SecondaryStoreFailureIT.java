package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.Tmpfs;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11, "a secondary whose disk fails keeps the primary REPLICATING": the secondary's 64 MiB
 * volume file lives on a real 8 MiB tmpfs, so the replicated writes beyond 8 MiB fail there with
 * ENOSPC. The primary must leave REPLICATING with those regions dirty (not report "in sync"), keep
 * serving, and once the store has room again the replayer's normal resync copies them: sha256 of
 * the source equals the replica's. Embedded Kafka, two facilities, the replayer service, qemu-io.
 */
@ExtendWith(KafkaBrokerExtension.class)
class SecondaryStoreFailureIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void aSecondaryWhoseStoreFillsUpTakesThePrimaryToLoggingAndIsResyncedOnceItHasRoom(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (Tmpfs store = Tmpfs.mount(dir.resolve("store-b"), 8L << 20)) {
            Path replica = store.path().resolve("vol.img");
            try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers())
                    .withSecondaryProperty("producer.volume.vol.path", replica.toString()).start()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
                try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(
                        ResyncIT.replayerProps(kafka, sites, "r-store"), Map.of()))) {
                    // 16 MiB onto 8 MiB of store: the second half cannot be stored on the secondary.
                    ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x5a 0 16M", "write -P 0x6b 40M 4M", "flush"));

                    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
                            .alias("the primary leaves REPLICATING for LOGGING with dirty regions")
                            .until(() -> sites.primary().mode() == Mode.LOGGING && sites.primary().dirtyRegions() > 0);
                    // While the store is full nothing can finish the resync: the primary never claims "in sync".
                    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                            .until(() -> sites.primary().mode() != Mode.REPLICATING && sites.primary().dirtyRegions() > 0);
                    assertThat(Checksums.sha256(replica)).isNotEqualTo(Checksums.sha256(sites.primaryFile()));

                    store.resize(128L << 20);
                    await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING
                            && sites.primary().dirtyRegions() == 0);
                }
                ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));
                assertThat(Checksums.sha256(replica)).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
                assertThat(sites.primary().tracker().pendingEras()).isEmpty();
                assertThat(sites.atB().metadata().consistent()).as("the secondary adopted the primary's history").isTrue();
            }
        }
    }
}
