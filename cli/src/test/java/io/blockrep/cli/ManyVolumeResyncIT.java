package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue #16 item 4: one replayer service used to step its volumes on one thread, so a long resync of
 * one volume delayed every other. Two volumes are dirtied during one outage, "big" (96 MiB, listed
 * first) and "small" (1 MiB), with {@code producer.autosync=false} so the test decides when each may
 * resync: big is approved first and the small one only once big's copy is under way (its progress
 * is on site-a's status). The service copies with one worker ({@code replayer.copy.concurrency=1},
 * the strictest case: fairness then comes from the 8 MiB slices and the round robin alone) at
 * 32 MB/s, so the big copy takes about three seconds. The small volume must reach REPLICATING while
 * the big one is still resyncing (with the old single loop it waited for the whole big copy), and
 * both replicas must equal their sources.
 *
 * <p>Real parts: the in-JVM KRaft broker, two in-JVM facilities on loopback sockets, the continuous
 * replayer service, Debian's qemu-io through NBD.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ManyVolumeResyncIT {
    private static final Logger LOG = LoggerFactory.getLogger(ManyVolumeResyncIT.class);
    private static final long SIZE = 128L << 20;
    private static final List<String> VOLUMES = List.of("big", "small");

    @TempDir
    Path dir;

    @Test
    void aSmallResyncIsNotQueuedBehindALargeOneInTheSameService(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (MultiVolumeSites sites = new MultiVolumeSites(dir, VOLUMES, SIZE, kafka.bootstrapServers(), Map.of(
                "producer.link.heartbeat.interval", "100ms",
                "producer.link.backoff.max", "250ms",
                "producer.link.restore.damping", "250ms",
                "producer.autosync", "false")).start()) {
            Properties props = sites.replayerProps("many-volumes");
            props.setProperty("replayer.copy.concurrency", "1");
            props.setProperty("replayer.copy.slice", "8M");
            props.setProperty("replayer.rate", "32M");
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(props, Map.of()))) {
                assertThat(replayer.ownedVolumes()).isNotNull();
                await().atMost(Duration.ofSeconds(60)).until(() -> modes(sites).size() == 2);
                await().atMost(Duration.ofSeconds(60)).until(() -> modes(sites).values().stream().allMatch("REPLICATING"::equals)
                        && modes(sites).size() == 2);

                sites.cutByOperator();
                await().atMost(Duration.ofSeconds(20)).until(() -> modes(sites).values().stream().allMatch("LOGGING"::equals));
                write(sites.primaryUri("big"), 0, 96 << 20, 0x5b);
                write(sites.primaryUri("small"), 4 << 20, 1 << 20, 0x17);
                sites.restoreByOperator();
                approve(sites, "big");
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> bigCopyUnderWay(sites));
                approve(sites, "small");

                // Poll both modes together: the moment the small one is REPLICATING, the big one must not be yet.
                Map<String, String> whenSmallDone = new HashMap<>();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                    Map<String, String> m = modes(sites);
                    if ("REPLICATING".equals(m.get("small")) && m.size() == 2) {
                        whenSmallDone.putAll(m);
                        return true;
                    }
                    return false;
                });
                LOG.info("when small reached REPLICATING: {}", whenSmallDone);
                assertThat(whenSmallDone.get("big")).as("the big volume is still resyncing when the small one is done: "
                        + whenSmallDone).isNotEqualTo("REPLICATING");
                await().atMost(Duration.ofSeconds(90)).until(() -> settled(sites));
            }
            for (String v : VOLUMES) {
                ScatteredWrites.flush(sites.primaryUri(v));
                assertThat(Checksums.sha256(sites.secondaryFile(v))).as("replica of " + v).isEqualTo(Checksums.sha256(sites.primaryFile(v)));
            }
        }
    }

    /** {@code length} bytes of {@code pattern} at {@code offset}, in 4 MiB writes, then a flush. */
    private static void write(String uri, long offset, long length, int pattern) {
        List<String> cmd = new java.util.ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (long o = offset; o < offset + length; o += 4 << 20) {
            cmd.addAll(List.of("-c", "write -P " + pattern + " " + o + " " + Math.min(4 << 20, offset + length - o)));
        }
        cmd.addAll(List.of("-c", "flush"));
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(120), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("error").doesNotContain("failed");
    }

    /** Each volume's mode on site-a (empty while it does not answer). */
    private static Map<String, String> modes(MultiVolumeSites sites) {
        Map<String, String> modes = new HashMap<>();
        JsonNode status = sites.primaryStatus();
        if (status != null) {
            status.path("volumes").forEach(v -> modes.put(v.path("volume").asText(), v.path("mode").asText()));
        }
        return modes;
    }

    /** Approves {@code volume}'s resync once it waits for approval. */
    private static void approve(MultiVolumeSites sites, String volume) {
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(modes(sites).get(volume)));
        sites.siteA.approve(volume);
    }

    /** site-a's status shows the big volume's copy started and not finished. */
    private static boolean bigCopyUnderWay(MultiVolumeSites sites) {
        JsonNode status = sites.primaryStatus();
        if (status == null) {
            return false;
        }
        for (JsonNode v : status.path("volumes")) {
            JsonNode replay = v.path("replay");
            if (v.path("volume").asText().equals("big") && replay.path("bytesTotal").asLong() >= 64L << 20
                    && replay.path("bytesDone").asLong() > 0 && replay.path("bytesDone").asLong() < replay.path("bytesTotal").asLong()) {
                return true;
            }
        }
        return false;
    }

    /** Both volumes REPLICATING, clean, no pending era. */
    private static boolean settled(MultiVolumeSites sites) {
        JsonNode status = sites.primaryStatus();
        if (status == null) {
            return false;
        }
        int clean = 0;
        for (JsonNode v : status.path("volumes")) {
            if ("REPLICATING".equals(v.path("mode").asText()) && v.path("dirtyRegions").asLong(-1) == 0 && v.path("pendingEras").isEmpty()) {
                clean++;
            }
        }
        return clean == VOLUMES.size();
    }
}
