package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.control.VolumeStatus;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.schemas.EventType;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12, item 6: a replica corrupted behind blockrep's back while REPLICATING (bytes written into
 * the secondary's volume file) is found by the replayer service's scheduled verify — nobody runs
 * {@code blockrep verify} — which marks the regions dirty on the primary; the resync repairs them,
 * the source's sha256 equals the replica's, and the primary's status and the events topic say what
 * the verify found. Real parts in one JVM: the embedded broker, two facilities over a real link, a
 * real NBD client, the replayer service.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ScheduledVerifyIT {
    private static final long SIZE = 64L << 20;
    private static final int REGION = 65536;

    @TempDir
    Path dir;

    private static void corrupt(Path file, long offset) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xEE, 0x11}), offset);
            ch.force(true);
        }
    }

    private static VolumeStatus.VerifyResult lastVerify(TwoSites sites) {
        return sites.siteA.status().volumes().get(0).lastVerify();
    }

    private static List<VolumeEvent> verifyEvents(ReplayEventsTail events) {
        return events.poll().stream().filter(e -> e.getType() == EventType.OTHER
                && "VERIFY_FINISHED".equals(e.getDetail().get("kind"))).toList();
    }

    @Test
    void theScheduledVerifyFindsAReplicaCorruptedWhileReplicatingAndTheResyncRepairsIt(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayEventsTail events = new ReplayEventsTail(kafka.bootstrapServers(), "blockrep.events")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x42 3M 1M", "write -P 0x17 40M 512k", "flush"));
            Properties props = ResyncIT.replayerProps(kafka, sites, "rv");
            props.setProperty("replayer.verify.interval", "2s");
            props.setProperty("replayer.verify.rate", "0");

            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                await().atMost(Duration.ofSeconds(30)).pollInSameThread().until(() -> lastVerify(sites) != null);
                assertThat(lastVerify(sites).regionsDiffering()).as("an intact replica verifies clean").isZero();
                assertThat(lastVerify(sites).regionsChecked()).isEqualTo(SIZE / REGION);
                assertThat(lastVerify(sites).by()).isEqualTo("rv");
                assertThat(sites.primary().mode()).isEqualTo(Mode.REPLICATING);

                // Behind blockrep's back: two regions of the replica change while the pair is REPLICATING.
                corrupt(sites.secondaryFile(), 50L * REGION + 100);
                corrupt(sites.secondaryFile(), 700L * REGION + REGION - 2);
                assertThat(Checksums.sha256(sites.secondaryFile())).isNotEqualTo(Checksums.sha256(sites.primaryFile()));

                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).pollInSameThread()
                        .until(() -> lastVerify(sites).regionsDiffering() == 2);
                assertThat(lastVerify(sites).summary()).startsWith("last verified at ").endsWith(", 2 regions differed");
                await().atMost(Duration.ofSeconds(30)).pollInSameThread().until(() -> verifyEvents(events).stream()
                        .anyMatch(e -> "2".equals(e.getDetail().get("regionsDiffering"))));
                VolumeEvent found = verifyEvents(events).stream().filter(e -> "2".equals(e.getDetail().get("regionsDiffering")))
                        .findFirst().orElseThrow();
                assertThat(found.getNode()).isEqualTo("rv");
                assertThat(found.getDetail()).containsEntry("regionsChecked", Long.toString(SIZE / REGION))
                        .containsEntry("complete", "true").containsEntry("primary", "site-a").containsEntry("replica", "site-b")
                        .containsKey("durationMillis");

                // The marked regions are resynced by the same service; the next scheduled verify is clean again.
                await().atMost(Duration.ofSeconds(60)).until(() -> sites.primary().mode() == Mode.REPLICATING
                        && sites.primary().dirtyRegions() == 0 && sites.primary().tracker().pendingEras().isEmpty());
                assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source")
                        .isEqualTo(Checksums.sha256(sites.primaryFile()));
                await().atMost(Duration.ofSeconds(30)).pollInSameThread().until(() -> lastVerify(sites).regionsDiffering() == 0);
                assertThat(replayer.failed().toCompletableFuture().isDone()).as("the service and its verifier still run").isFalse();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
        }
    }
}
