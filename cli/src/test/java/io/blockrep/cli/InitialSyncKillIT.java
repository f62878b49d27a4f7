package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the primary facility (the packaged jar) in the middle of an initial sync: after the
 * restart the sync goes on from the regions still dirty, without a new scan, and ends with a
 * byte-identical replica.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class InitialSyncKillIT {
    private static final long SIZE = 64L << 20;
    private static final String SECRET = "initial-sync-kill-secret-0123456789";

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();

    private Path config(KafkaBroker kafka, String node, String role, int control, Map<String, String> more) {
        return BlockrepProcess.facilityConfig(dir, node, role, SIZE, FreePorts.find(), control, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), more));
    }

    @Test
    void aPrimaryKilledDuringItsInitialSyncResumesItAfterTheRestart(KafkaBroker kafka) throws Exception {
        Path existing = dir.resolve("existing.img");
        TreeSet<Integer> data = InitialSyncIT.existingImage(existing, 21);
        int linkA = FreePorts.find();
        int linkB = FreePorts.find();
        int controlA = FreePorts.find();
        int controlB = FreePorts.find();
        Path configB = config(kafka, "site-b", "SECONDARY", controlB, Map.of("producer.link.listen", "127.0.0.1:" + linkB));
        Path configA = config(kafka, "site-a", "PRIMARY", controlA, Map.of("producer.link.peer", "127.0.0.1:" + linkB,
                "producer.link.listen", "127.0.0.1:" + linkA, "producer.volume.vol.path", existing.toString()));
        ControlApi a = new ControlApi(controlA);
        ControlApi b = new ControlApi(controlB);
        ExternalCommand.Running secondary = BlockrepProcess.startFacility(configB, b, processes);
        ExternalCommand.Running primary = BlockrepProcess.startFacility(configA, a, processes);
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)), () -> "RESYNCING".equals(a.mode()), primary, secondary);
        assertThat(a.volume().path("initialSync").path("regions").asLong()).isEqualTo(data.size());

        Properties p = ReplayerProperties.of("r1", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node("site-a", linkA, controlA), new ReplayerProperties.Node("site-b", linkB, controlB));
        p.setProperty("replayer.rate", "2M");
        p.setProperty("replayer.dataset.bytes", "1M");
        try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(p, Map.of()))) {
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)), () -> {
                JsonNode s = a.volume().path("initialSync");
                return s.path("percent").asInt() >= 10;
            }, primary, secondary);
            primary.kill();

            ExternalCommand.Running restarted = BlockrepProcess.startFacility(configA, a, processes);
            JsonNode after = a.volume();
            assertThat(after.path("initialSync").path("phase").asText()).as("still running after the kill").isEqualTo("RUNNING");
            assertThat(after.path("initialSync").path("regions").asLong()).as("no new scan").isEqualTo(data.size());
            assertThat(after.path("initialSync").path("remainingRegions").asLong()).isBetween(1L, (long) data.size());
            assertThat(restarted.stdout() + restarted.stderr()).doesNotContain("hold data and are marked dirty");
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(120)), () -> "REPLICATING".equals(a.mode())
                    && b.volume().path("generations").path("consistent").asBoolean(), restarted, secondary);
        }
        assertThat(a.volume().path("dirtyRegions").asLong()).isZero();
        assertThat(a.volume().path("initialSync").isMissingNode() || a.volume().path("initialSync").isNull()).isTrue();
        assertThat(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img"))).as("replica equals the existing data")
                .isEqualTo(Checksums.sha256(existing));
    }
}
