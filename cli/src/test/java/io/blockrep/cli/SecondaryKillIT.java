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
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * kill -9 of the secondary facility (a real process) while it holds a data set of the replayer:
 * the set's journal is on its disk at the kill, is recovered at restart, the primary's link and
 * the replayer reconnect by themselves, and the resync finishes with a byte-identical replica.
 *
 * <p>To land the kill inside a data set, the test watches the secondary's journal directory; when a
 * journal appears it freezes the secondary (SIGSTOP), checks the journal is still there (else lets
 * it go on and waits for the next set), and then sends SIGKILL.
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

    private Path journals() {
        return dir.resolve("site-b/volumes/vol/journal");
    }

    /** Journals of sets in progress (a connection keeps its last set's dropped journal for reuse; those do not count). */
    private long journalCount() {
        try {
            return io.blockrep.producer.journal.DataSetJournal.live(journals().getParent()).size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void signal(ExternalCommand.Running p, String signal) {
        assertThat(p.signal(signal)).as("kill -%s %d", signal, p.pid()).isTrue();
    }

    /** If a data set is open on the secondary, freezes it there and returns true; else leaves it running. */
    private boolean frozenInsideADataSet(ExternalCommand.Running secondary) {
        if (journalCount() == 0) {
            return false;
        }
        signal(secondary, "STOP");
        if (journalCount() > 0) {
            return true;
        }
        signal(secondary, "CONT");
        return false;
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
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInSameThread().pollInterval(Duration.ofMillis(1)),
                    () -> frozenInsideADataSet(secondary), primary, secondary);
            secondary.kill();
            long left = journalCount();
            assertThat(left).as("the kill landed inside a data set: its journal is on the secondary's disk").isPositive();
            await().atMost(Duration.ofSeconds(10)).until(() -> "LOGGING".equals(a.mode()));

            ExternalCommand.Running restarted = start(configB, b);
            // The journals of the kill are recovered (re-applied or discarded) before the link server starts;
            // the replayer may have begun new sets by the time the facility answers, so the log is the witness.
            assertThat(restarted.stdout() + restarted.stderr()).as("journals are recovered at start")
                    .containsPattern("(discarded uncommitted|re-applied committed) data set");
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(120)), () -> "REPLICATING".equals(a.mode()), primary, restarted);
        }
        ScatteredWrites.flush(uri);
        assertThat(a.volume().path("dirtyRegions").asLong()).isZero();
        assertThat(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img"))).as("replica equals source")
                .isEqualTo(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img")));
        await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
    }
}
