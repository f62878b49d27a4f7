package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.resolve.SplitBrainResolver;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.replayer.service.FacilityClient;
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
 * kill -9 of either facility (real processes) in the middle of a resolve: the loser right after it
 * was demoted, the survivor right after the loser's changes were merged into it and discarded.
 * After each restart, running {@code blockrep resolve} again finishes the job and the copies match.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class SplitBrainKillIT {
    private static final long SIZE = 32L << 20;
    private static final String SECRET = "split-brain-kill-secret-0123456789";

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();

    /** Ports of one site. */
    private record Site(String node, int nbd, int control, int link, Path config, ControlApi api) {
        String uri() {
            return "nbd://127.0.0.1:" + nbd + "/vol";
        }
    }

    private Site site(KafkaBroker kafka, String node, String role, int link, int peerLink) {
        int nbd = FreePorts.find();
        int control = FreePorts.find();
        Path file = BlockrepProcess.facilityConfig(dir, node, role, SIZE, nbd, control, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), Map.of(
                        "producer.link.listen", "127.0.0.1:" + link,
                        "producer.link.peer", "127.0.0.1:" + peerLink)));
        return new Site(node, nbd, control, link, file, new ControlApi(control));
    }

    private ExternalCommand.Running start(Site s) {
        return BlockrepProcess.startFacility(s.config(), s.api(), processes);
    }

    private Path replayerConfig(KafkaBroker kafka, Site a, Site b) {
        Properties p = ReplayerProperties.of("r-kill", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node(a.node(), a.link(), a.control()), new ReplayerProperties.Node(b.node(), b.link(), b.control()));
        return BlockrepProcess.write(dir.resolve("replayer.properties"), p);
    }

    @Test
    void aResolveInterruptedByKillingEitherFacilityIsFinishedByRunningItAgain(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int linkA = FreePorts.find();
        int linkB = FreePorts.find();
        Site a = site(kafka, "site-a", "PRIMARY", linkA, linkB);
        Site b = site(kafka, "site-b", "SECONDARY", linkB, linkA);
        start(b);
        ExternalCommand.Running primary = start(a);
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(30)), () -> "REPLICATING".equals(a.api().mode()), primary);
        ResyncIT.qemuIo(a.uri(), List.of("write -P 0x01 0 4M", "flush"));
        Path config = replayerConfig(kafka, a, b);
        // A replayer finishes any resync a link hiccup under load may cause before the split brain is made.
        ReplayerService warmUp = ReplayerService.start(ReplayerConfig.load(config, Map.of()));
        try {
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)), () -> "REPLICATING".equals(a.api().mode())
                    && a.api().volume().path("dirtyRegions").asLong() == 0, primary);
        } finally {
            warmUp.close();
        }

        // Split brain: both links cut, site-b promoted, both written, links restored.
        a.api().post("/v1/link/cut");
        b.api().post("/v1/link/cut");
        b.api().post("/v1/volumes/vol/promote");
        ResyncIT.qemuIo(a.uri(), List.of("write -P 0xaa 1M 2M", "write -P 0xab 20M 64k"));
        ResyncIT.qemuIo(b.uri(), List.of("write -P 0xbb 2M 2M", "write -P 0xbc 28M 256k"));
        a.api().post("/v1/link/restore");
        b.api().post("/v1/link/restore");
        await().atMost(Duration.ofSeconds(20)).until(() -> "SPLIT_BRAIN".equals(a.api().mode()) && "SPLIT_BRAIN".equals(b.api().mode()));
        String hashA = Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img"));

        List<FacilityClient> clients = List.of(FacilityClient.of("127.0.0.1:" + a.control()), FacilityClient.of("127.0.0.1:" + b.control()));
        SplitBrainResolver resolver = new SplitBrainResolver("vol");
        SplitBrainResolver.Plan plan = resolver.plan("site-a", clients);
        resolver.demoteLoser(plan);
        // kill -9 of the loser right after its demotion
        processes.get(0).kill();
        start(b);
        plan = resolver.plan("site-a", clients);
        assertThat(plan.stage()).isEqualTo(SplitBrainResolver.Stage.DEMOTED);
        assertThat(plan.loserRegions()).as("site-b's own changes survived its kill").isEqualTo(32 + 4);
        resolver.merge(plan);
        resolver.discard(plan, Duration.ofSeconds(30));
        // kill -9 of the survivor after the merge and the discard, before the resync
        primary.kill();
        ExternalCommand.Running restarted = start(a);

        int exit = Main.run("resolve", "vol", "--primary", "site-a", "--control", "127.0.0.1:" + a.control() + ",127.0.0.1:" + b.control(),
                "--config", config.toString(), "--yes", "--timeout", "2m");
        assertThat(exit).as(restarted.stdout() + restarted.stderr()).isZero();
        assertThat(a.api().mode()).isEqualTo("REPLICATING");
        assertThat(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img"))).as("site-a kept its data").isEqualTo(hashA);
        assertThat(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img"))).as("site-b equals site-a").isEqualTo(hashA);
        await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
    }
}
