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
import io.blockrep.testkit.net.LinkProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Async mirroring between two real facility processes, the link through a {@link LinkProxy} that
 * adds latency and cuts: what the client was told is written either reaches the replica or is
 * resynced, so after the resync the replica equals the source (sha256), after a link cut under fio
 * --verify. (The kill -9 of a primary with a full queue is covered deterministically by
 * AsyncMirroringTest; its process-level test did not converge yet and is not in this suite.)
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class AsyncMirrorIT {
    private static final long SIZE = 64L << 20;
    private static final String SECRET = "async-mirror-secret-0123456789ab";

    @TempDir
    Path dir;
    @RegisterExtension
    final StartedProcesses processes = new StartedProcesses();
    private LinkProxy proxy;
    private int linkA;
    private int linkB;
    private int controlA;
    private int controlB;
    private int nbdA;
    private ControlApi a;
    private Path configA;

    @AfterEach
    void closeProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** Site b SECONDARY, site a PRIMARY in async mode, its link to b through the proxy; both started, REPLICATING. */
    private void sites(KafkaBroker kafka, Map<String, String> primaryKeys) {
        linkA = FreePorts.find();
        linkB = FreePorts.find();
        controlA = FreePorts.find();
        controlB = FreePorts.find();
        nbdA = FreePorts.find();
        Path configB = BlockrepProcess.facilityConfig(dir, "site-b", "SECONDARY", SIZE, FreePorts.find(), controlB, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), Map.of("producer.link.listen", "127.0.0.1:" + linkB)));
        proxy = new LinkProxy("127.0.0.1", linkB);
        Map<String, String> keys = new LinkedHashMap<>(Map.of("producer.link.peer", "127.0.0.1:" + proxy.port(),
                "producer.link.listen", "127.0.0.1:" + linkA, "producer.link.sync.mode", "async"));
        keys.putAll(primaryKeys);
        configA = BlockrepProcess.facilityConfig(dir, "site-a", "PRIMARY", SIZE, nbdA, controlA, SECRET,
                BlockrepProcess.withKafka(kafka.bootstrapServers(), keys));
        a = new ControlApi(controlA);
        BlockrepProcess.startFacility(configB, new ControlApi(controlB), processes);
        BlockrepProcess.startFacility(configA, a, processes);
        await().atMost(Duration.ofSeconds(30)).until(() -> "REPLICATING".equals(a.mode()));
        assertThat(a.volume().path("async").isObject()).as("the status shows the async queue").isTrue();
    }

    private ReplayerService replayer(KafkaBroker kafka) {
        Properties p = ReplayerProperties.of("r1", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node("site-a", linkA, controlA), new ReplayerProperties.Node("site-b", linkB, controlB));
        return ReplayerService.start(ReplayerConfig.from(p, Map.of()));
    }

    private String uri() {
        return "nbd://127.0.0.1:" + nbdA + "/vol";
    }

    private void awaitInSyncAndIdentical() {
        ExternalCommand.Running[] all = java.util.stream.IntStream.range(0, 3).mapToObj(i -> {
            try {
                return processes.get(i);
            } catch (IndexOutOfBoundsException e) {
                return null;
            }
        }).filter(java.util.Objects::nonNull).toArray(ExternalCommand.Running[]::new);
        BlockrepProcess.await(await().atMost(Duration.ofSeconds(120)), () -> {
            JsonNode v = a.volume();
            return "REPLICATING".equals(v.path("mode").asText()) && v.path("dirtyRegions").asLong() == 0;
        }, all);
        ScatteredWrites.flush(uri());
        await().atMost(Duration.ofSeconds(30)).until(() -> a.volume().path("async").path("lagWrites").asLong() == 0);
        assertThat(Checksums.sha256(dir.resolve("site-b/volumes/vol/data.img"))).as("replica equals source")
                .isEqualTo(Checksums.sha256(dir.resolve("site-a/volumes/vol/data.img")));
    }

    @Test
    void fioVerifiesThroughAnAsyncPrimaryWhileTheLinkIsDelayedAndCutAndTheResyncMakesTheReplicaEqual(KafkaBroker kafka)
            throws Exception {
        ExternalCommand.requireTool("fio", "fio");
        sites(kafka, Map.of("producer.link.ack.timeout", "5s", "producer.link.heartbeat.interval", "200ms",
                "producer.link.missed.heartbeats", "10"));
        proxy.delay(Duration.ofMillis(10)); // 20 ms added round trip
        try (ExternalCommand.Running fio = ExternalCommand.start(List.of("fio", "--name=async", "--ioengine=nbd", "--uri=" + uri(),
                "--rw=randwrite", "--bsrange=4k-64k", "--iodepth=8", "--thread", "--size=48M", "--randseed=17",
                "--verify=crc32c", "--do_verify=1", "--verify_fatal=1"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> a.volume().path("async").path("highWaterBytes").asLong() > 0);
            proxy.cut();
            await().atMost(Duration.ofSeconds(20)).until(() -> "LOGGING".equals(a.mode()));
            ExternalCommand.Result r = fio.await(Duration.ofSeconds(180));
            assertThat(r.exitCode()).as("fio --verify through the async primary: " + r.describe()).isZero();
        }
        assertThat(a.volume().path("dirtyRegions").asLong()).as("the queue dropped at the cut is dirty").isPositive();
        try (ReplayerService replayer = replayer(kafka)) {
            proxy.delay(Duration.ZERO);
            proxy.restore();
            awaitInSyncAndIdentical();
        }
    }
}
