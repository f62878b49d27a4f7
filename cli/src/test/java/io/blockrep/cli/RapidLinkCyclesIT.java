package io.blockrep.cli;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.ThreadDump;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue #11, "the same end to end": six PRIMARY volumes under fio (randwrite 4 KiB, iodepth 16,
 * 300 IOPS each) while the link is cut and restored 20 times, half of the cycles at the TCP level
 * (the link proxies reset every connection), half through the control API ({@code POST
 * /v1/link/cut}, {@code /restore}). Each cut lasts 0–300 ms (seeded). Two cycles in three then wait
 * until the restore took effect (the link HEALTHY after its 250 ms damping, when the volumes apply
 * "restored") and cut again 0–300 ms later, half of those within 40 ms: the window where a cut
 * races the restore's drain of in-flight writes. The third cycle cuts 0–300 ms after the restore
 * call, usually before the damping ends (a flapping link). Then fio is stopped and must finish, and
 * once the link is back every volume must be REPLICATING with no dirty region and a replica
 * byte-identical to its source.
 *
 * <p>Real parts: the in-JVM KRaft broker, two in-JVM facilities on loopback sockets, the continuous
 * replayer service, Debian's fio with its nbd engine. Every wait is bounded; a failure carries the
 * seed, both facilities' status JSON, fio's output and a thread dump (also written to
 * {@code target/RapidLinkCyclesIT-<seed>.txt}). Rerun one schedule with {@code -Dblockrep.test.seed=N}.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class RapidLinkCyclesIT {
    private static final Logger LOG = LoggerFactory.getLogger(RapidLinkCyclesIT.class);
    private static final long SIZE = 64L << 20;
    private static final List<String> VOLUMES = IntStream.rangeClosed(1, 6).mapToObj(i -> "rc" + i).toList();
    private static final int CYCLES = 20;
    private static final int MAX_GAP_MILLIS = 300;
    private static final int RACE_WINDOW_MILLIS = 40;
    private static final int FIO_IOPS = 300;
    /** How long fio may take to finish once told to stop (SIGTERM) before it counts as stalled. */
    private static final Duration FIO_STALL = Duration.ofSeconds(30);
    /** How long a restore may take to become HEALTHY (reconnect backoff, handshake, damping). */
    private static final Duration RESTORE = Duration.ofSeconds(10);
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private long seed;
    private MultiVolumeSites sites;
    private ExternalCommand.Running fio;

    /**
     * One link outage: cut at the TCP level or by the operator; how long it stays down; whether the
     * next cut waits for the restore to take effect (link HEALTHY); how long it stays up after that
     * (or after the restore call).
     */
    private record Cycle(boolean tcp, long downMillis, boolean untilHealthy, long upMillis) {
        String describe() {
            return (tcp ? "tcp" : "operator") + ": down " + downMillis + " ms, up " + upMillis + " ms after "
                    + (untilHealthy ? "HEALTHY" : "the restore call");
        }
    }

    @Test
    void sixVolumesUnderFioSurviveTwentyRapidLinkCutsAndEndReplicatingAndIdentical(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("fio", "fio");
        seed = Long.getLong("blockrep.test.seed", new SecureRandom().nextLong());
        LOG.info("RapidLinkCyclesIT seed {} (rerun with -Dblockrep.test.seed={})", seed, seed);
        List<Cycle> schedule = schedule(seed);

        sites = new MultiVolumeSites(dir, VOLUMES, SIZE, kafka.bootstrapServers(), Map.of(
                "producer.link.ack.timeout", "1s",
                "producer.link.heartbeat.interval", "100ms",
                "producer.link.missed.heartbeats", "5",
                "producer.link.connect.timeout", "1s",
                "producer.link.backoff.max", "250ms",
                "producer.link.restore.damping", "250ms"));
        ReplayerService replayer = null;
        try {
            sites.start();
            replayer = ReplayerService.start(ReplayerConfig.from(sites.replayerProps("rapid-cycles"), Map.of()));
            awaitOrDump(Duration.ofSeconds(30), "every volume REPLICATING before the load", () -> every("REPLICATING", false));

            fio = ExternalCommand.start(fioCommand());
            awaitOrDump(Duration.ofSeconds(20), "fio writing to every volume (hot regions on each)", this::everyVolumeWritten);

            runCycles(schedule);

            fio.terminate();
            awaitOrDump(FIO_STALL, "fio finished after SIGTERM (its writes completed)", () -> !fio.isAlive());
            checkFio(fio.await(Duration.ofSeconds(5)));

            sites.restoreTcp();
            sites.restoreByOperator();
            awaitOrDump(CONVERGE, "every volume REPLICATING with 0 dirty regions and no pending era, link HEALTHY",
                    () -> every("REPLICATING", true));

            List<String> differing = new ArrayList<>();
            for (String v : VOLUMES) {
                String source = Checksums.sha256(sites.primaryFile(v));
                String replica = Checksums.sha256(sites.secondaryFile(v));
                if (!source.equals(replica)) {
                    differing.add(v + ": source " + source + " replica " + replica);
                }
            }
            if (!differing.isEmpty()) {
                throw failure("replica differs from source for " + differing.size() + " of " + VOLUMES.size() + " volumes",
                        String.join("\n", differing));
            }
            LOG.info("RapidLinkCyclesIT seed {}: every replica equals its source", seed);
        } finally {
            if (fio != null) {
                fio.close();
            }
            closeWithin(replayer, "replayer");
            closeWithin(sites, "facilities");
        }
    }

    /**
     * {@link #CYCLES} outages from {@code seed}: alternately at the TCP level and by the operator;
     * down 0..{@link #MAX_GAP_MILLIS} ms; every third one flapping (cut again 0..300 ms after the
     * restore call), the others cut 0..300 ms after the link is HEALTHY, half of them within
     * {@link #RACE_WINDOW_MILLIS} ms.
     */
    private static List<Cycle> schedule(long seed) {
        Random random = new Random(seed);
        List<Cycle> cycles = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            boolean untilHealthy = i % 3 != 2;
            int upBound = untilHealthy && random.nextBoolean() ? RACE_WINDOW_MILLIS : MAX_GAP_MILLIS;
            cycles.add(new Cycle(i % 2 == 0, random.nextInt(MAX_GAP_MILLIS + 1), untilHealthy, random.nextInt(upBound + 1)));
        }
        return cycles;
    }

    private void runCycles(List<Cycle> schedule) throws Exception {
        for (int i = 0; i < schedule.size(); i++) {
            Cycle c = schedule.get(i);
            try {
                if (c.tcp()) {
                    sites.cutTcp();
                } else {
                    sites.cutByOperator();
                }
                pause(c.downMillis());
                if (c.tcp()) {
                    sites.restoreTcp();
                } else {
                    sites.restoreByOperator();
                }
                long restored = System.nanoTime();
                if (c.untilHealthy()) {
                    awaitLinkHealthy("cycle " + (i + 1) + " (" + c.describe() + "): the restore took effect");
                }
                LOG.info("cycle {}/{} {}{}", i + 1, schedule.size(), c.describe(),
                        c.untilHealthy() ? " (HEALTHY " + (System.nanoTime() - restored) / 1_000_000 + " ms after the restore)" : "");
                pause(c.upMillis());
            } catch (IOException e) {
                throw failure("cycle " + (i + 1) + " (" + c.describe() + "): the control API failed", e.toString());
            }
        }
    }

    /**
     * The fault schedule itself: the link stays cut (or up) for this long. Nothing is awaited here;
     * every outcome is checked afterwards with a bounded wait.
     */
    private static void pause(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }

    /**
     * Polls site-a's link state in this JVM every few milliseconds, so the next cut lands at the
     * intended distance from the moment the volumes are told the link is restored.
     */
    private void awaitLinkHealthy(String what) {
        try {
            await().atMost(RESTORE).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                    .until(() -> "HEALTHY".equals(sites.siteA.status().link()));
        } catch (ConditionTimeoutException e) {
            throw failure("not within " + RESTORE.toSeconds() + " s: " + what, e.getMessage());
        }
    }

    /** fio stops at SIGTERM (exit 128 then, 0 had it ended by itself); every job must report no error. */
    private void checkFio(ExternalCommand.Result result) {
        long clean = result.stdout().lines().filter(l -> l.contains("err= 0")).count();
        if ((result.exitCode() != 0 && result.exitCode() != 128) || clean != VOLUMES.size()) {
            throw failure("fio failed (exit " + result.exitCode() + ", " + clean + " of " + VOLUMES.size() + " jobs without error)",
                    result.describe());
        }
        LOG.info("fio done:\n{}", summary(result.stdout()));
    }

    /** Runs until stopped (SIGTERM); the runtime is only an upper bound. */
    private List<String> fioCommand() {
        List<String> cmd = new ArrayList<>(List.of("fio", "--ioengine=nbd", "--rw=randwrite", "--bs=4k", "--iodepth=16",
                "--rate_iops=" + FIO_IOPS, "--size=" + SIZE, "--time_based", "--runtime=300",
                "--randseed=" + (seed & 0x7fffffffL)));
        for (String v : VOLUMES) {
            cmd.add("--name=" + v);
            cmd.add("--uri=" + sites.primaryUri(v));
        }
        return cmd;
    }

    private boolean everyVolumeWritten() {
        return VOLUMES.stream().allMatch(v -> !sites.siteA.primary(v).orElseThrow().tracker().hotRegions().isEmpty());
    }

    /** site-a answers, and every volume is in {@code mode} (and, when {@code settled}, clean with a healthy link). */
    private boolean every(String mode, boolean settled) {
        JsonNode status = sites.primaryStatus();
        if (status == null || (settled && !"HEALTHY".equals(status.path("link").asText()))) {
            return false;
        }
        int matching = 0;
        for (JsonNode v : status.path("volumes")) {
            boolean clean = v.path("dirtyRegions").asLong(-1) == 0 && v.path("pendingEras").isEmpty();
            if (mode.equals(v.path("mode").asText()) && (!settled || clean)) {
                matching++;
            }
        }
        return matching == VOLUMES.size();
    }

    private void awaitOrDump(Duration atMost, String what, Callable<Boolean> condition) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(condition);
        } catch (ConditionTimeoutException e) {
            throw failure("not within " + atMost.toSeconds() + " s: " + what, e.getMessage());
        }
    }

    /** An assertion error that carries the seed, both facilities' status, fio's output so far and a thread dump. */
    private AssertionError failure(String what, String detail) {
        StringBuilder d = new StringBuilder();
        d.append("RapidLinkCyclesIT seed ").append(seed).append(" (rerun with -Dblockrep.test.seed=").append(seed).append(")\n")
                .append(what).append('\n').append(detail).append('\n');
        if (sites != null && sites.siteA != null && sites.siteB != null) {
            d.append("\n--- site-a status\n").append(MultiVolumeSites.statusText(sites.siteA))
                    .append("\n--- site-b status\n").append(MultiVolumeSites.statusText(sites.siteB)).append('\n');
        }
        if (fio != null) {
            d.append("\n--- fio ").append(fio.isAlive() ? "(still running)" : "(exited)").append("\n")
                    .append(fio.stdout()).append(fio.stderr()).append('\n');
        }
        d.append("\n--- threads with io.blockrep frames\n").append(ThreadDump.of("io.blockrep."));
        Path file = Path.of("target", "RapidLinkCyclesIT-" + seed + ".txt");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, d);
        } catch (IOException e) {
            LOG.warn("cannot write {}: {}", file, e.toString());
        }
        LOG.error("{}\n(diagnostics also in {})", d, file.toAbsolutePath());
        return new AssertionError(d.toString());
    }

    /** fio's per-job summary lines (IOPS, errors), not the latency tables. */
    private static String summary(String fioOutput) {
        return fioOutput.lines().filter(l -> l.contains("err=") || l.contains("IOPS=")).reduce((a, b) -> a + "\n" + b).orElse(fioOutput);
    }

    /**
     * Closes {@code c} on a helper thread and gives up after 30 s: a facility that deadlocked may not
     * close, and the test must end with its failure, not hang in cleanup.
     */
    private static void closeWithin(AutoCloseable c, String what) {
        if (c == null) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {}: {}", what, e.toString());
            }
        }, "rapid-cycles-close-" + what);
        t.setDaemon(true);
        t.start();
        try {
            t.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.error("{} did not close within 30 s; left behind (daemon threads)", what);
        }
    }
}
