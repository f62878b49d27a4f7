package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the secondary facility (a real process) while the replayer's data sets stream into it
 * (RESYNCING, bytes already copied): the primary's link and the replayer reconnect by themselves
 * once it restarts, and the resync finishes with a byte-identical replica.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class SecondaryKillIT {
    private static final long SIZE = 128L << 20;
    private static final String SECRET = "secondary-kill-secret-0123456789";

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();

    private Path config(KafkaBroker kafka, String node, String role, int nbd, int control, Map<String, String> link) {
        return BlockrepProcess.facilityConfig(dir, node, role, SIZE, nbd, control, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), link));
    }

    private ExternalCommand.Running start(Path config, ControlApi control) {
        return BlockrepProcess.startFacility(config, control, processes);
    }

    @Test
    void aSecondaryKilledInsideADataSetRecoversAndTheResyncFinishes(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkB = FreePorts.find();
        int controlA = FreePorts.find();
        int controlB = FreePorts.find();
        int nbdA = FreePorts.find();
        Path configB = config(kafka, "site-b", "SECONDARY", FreePorts.find(), controlB, Map.of("producer.link.listen", "127.0.0.1:" + linkB));
        int linkA = FreePorts.find();
        Path configA = config(kafka, "site-a", "PRIMARY", nbdA, controlA, Map.of("producer.link.peer", "127.0.0.1:" + linkB,
                "producer.link.listen", "127.0.0.1:" + linkA));
        ControlApi a = new ControlApi(controlA);
        ControlApi b = new ControlApi(controlB);
        ExternalCommand.Running secondary = start(configB, b);
        ExternalCommand.Running primary = start(configA, a);
        String uri = "nbd://127.0.0.1:" + nbdA + "/vol";
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)), () -> "REPLICATING".equals(a.mode()), primary, secondary);
        a.post("/v1/link/cut");
        await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(a.mode()));
        ScatteredWrites.write(uri, SIZE, 40L << 20, 23);
        assertThat(a.volume().path("dirtyRegions").asLong()).isGreaterThan(400);

        Properties p = ReplayerProperties.of("r1", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node("site-a", linkA, controlA), new ReplayerProperties.Node("site-b", linkB, controlB));
        p.setProperty("replayer.rate", "8M");
        p.setProperty("replayer.dataset.bytes", "4M");
        try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(p, Map.of()))) {
            a.post("/v1/link/restore");
            // The replayer's data sets are applied DIRECT (no journal; the copy is marked inconsistent and an
            // unacknowledged set is sent again): killed while sets stream in, the secondary must recover and the
            // resync finish with the replica equal to the source.
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)),
                    () -> "RESYNCING".equals(a.mode()) && a.volume().path("replay").path("bytesDone").asLong() > 0, primary, secondary);
            secondary.kill();
            await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(a.mode()));

            ExternalCommand.Running restarted = start(configB, b);
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(120)), () -> "REPLICATING".equals(a.mode()), primary, restarted);
        }
        ScatteredWrites.flush(uri);
        assertThat(a.volume().path("dirtyRegions").asLong()).isZero();
        assertThat(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img"))).as("replica equals source")
                .isEqualTo(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img")));
        await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
    }
}
