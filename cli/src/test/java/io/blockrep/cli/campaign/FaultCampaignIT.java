package io.blockrep.cli.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.EmbeddedKafkaOnly;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.CommonClientConfigs;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue #12 item 3, the seeded fault campaign on real processes (see {@link CampaignSystem}): each
 * round runs a verified fio load through NBD on the primary while one or two {@link Fault}s strike at
 * random times, heals them, waits until the primary reports REPLICATING with nothing dirty, and then
 * checks the promise: sha256 of source equals replica; every region the round wrote is the same on
 * both sides (the load's own record of what it wrote is the oracle, region by region); no live key in
 * the dirty topic (every era is replayed); the status agrees (dirty 0, no pending era); every process
 * still runs; no process log shows a thread that died of an exception.
 *
 * <p>Properties: {@code blockrep.campaign.rounds} (20), {@code blockrep.campaign.seed} (random,
 * printed), {@code blockrep.campaign.first} (the first round's number, to re-run one round),
 * {@code blockrep.campaign.faults} (a comma list of {@link Fault} names; all by default). A failing
 * round prints the command that re-runs it; the summary goes to the log and to
 * {@code target/campaign/summary.txt}, the processes' logs to {@code target/campaign/logs/}.
 */
@Tag("slow")
@Tag("campaign")
@ExtendWith(KafkaBrokerExtension.class)
@EmbeddedKafkaOnly("stops and starts the broker (the BROKER_DOWN and BROKER_RESTART faults)")
class FaultCampaignIT {
    private static final Logger log = LoggerFactory.getLogger(FaultCampaignIT.class);
    private static final Duration CONVERGENCE_TIMEOUT = Duration.ofSeconds(90);
    private static final Path OUT = Path.of("target", "campaign");

    @TempDir
    Path dir;

    @Test
    void seededRoundsOfFaultsEndWithAByteIdenticalReplicaAndNothingLeftDirty(KafkaBroker kafka) throws IOException {
        ExternalCommand.requireTool("fio", "fio");
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int rounds = Integer.getInteger("blockrep.campaign.rounds", 20);
        long seed = Long.getLong("blockrep.campaign.seed", System.nanoTime() % 1_000_000);
        int first = Integer.getInteger("blockrep.campaign.first", 0);
        List<Fault> enabled = enabledFaults();
        log.info("fault campaign: seed {}, rounds {}..{}, faults {}", seed, first, first + rounds - 1, enabled);
        CampaignSummary summary = new CampaignSummary(seed);
        Files.createDirectories(OUT);
        deleteLogsOfAnEarlierRun();
        try (CampaignSystem system = new CampaignSystem(dir, kafka).start()) {
            try {
                converge(system, "the start");
                for (int r = first; r < first + rounds; r++) {
                    RoundPlan plan = RoundPlan.draw(seed, r, enabled);
                    try {
                        runRound(system, plan, summary);
                    } catch (AssertionError | RuntimeException e) {
                        throw new AssertionError("FAILED " + plan + "\nre-run: " + repro(seed, r) + "\n" + e.getMessage(), e);
                    }
                }
            } finally {
                system.saveLogs(OUT.resolve("logs"));
                Files.writeString(OUT.resolve("summary.txt"), summary.toString());
                log.info("{}", summary);
            }
        }
    }

    private static void deleteLogsOfAnEarlierRun() throws IOException {
        Path logs = OUT.resolve("logs");
        if (Files.isDirectory(logs)) {
            try (var files = Files.list(logs)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    private static String repro(long seed, int round) {
        return "mvn -B -o -pl cli -am verify -Dit.test=FaultCampaignIT -Dtest=skip -Dsurefire.failIfNoSpecifiedTests=false"
                + " -DfailIfNoTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dblockrep.campaign.seed=" + seed + " -Dblockrep.campaign.first=" + round
                + " -Dblockrep.campaign.rounds=1";
    }

    private static List<Fault> enabledFaults() {
        String names = System.getProperty("blockrep.campaign.faults", "");
        if (names.isBlank()) {
            return List.of(Fault.values());
        }
        return Arrays.stream(names.split(",")).map(String::trim).map(Fault::valueOf).toList();
    }

    private void runRound(CampaignSystem system, RoundPlan plan, CampaignSummary summary) {
        log.info("{}", plan);
        long eraBefore = era(system);
        ExternalCommand.Running load = system.startLoad(plan.load());
        ExternalCommand.Result loaded;
        try {
            strike(system, plan, 0);
            loaded = load.await(Duration.ofSeconds(60));
        } finally {
            load.close();
        }
        long healed = System.nanoTime();
        boolean rerun = false;
        if (loaded.exitCode() != 0) {
            assertThat(plan.loadMayFail()).as("the load failed though no fault of the round may fail it:\n" + loaded.describe()).isTrue();
            ExternalCommand.Result again = plan.load().run(system.primaryUri(), Duration.ofSeconds(120));
            assertThat(again.exitCode()).as("the load, re-run after the primary's fault was healed:\n" + again.describe()).isZero();
            rerun = true;
        }
        converge(system, "round " + plan.round());
        Duration convergence = Duration.ofNanos(System.nanoTime() - healed);
        check(system, plan);
        boolean resynced = era(system) != eraBefore;
        summary.round(plan, convergence, rerun, resynced);
        log.info("round {} converged in {} ms{}", plan.round(), convergence.toMillis(), resynced ? " after a resync" : "");
    }

    /** Strikes fault {@code i} after its delay, the next ones inside it, and heals it after its hold. */
    private static void strike(CampaignSystem system, RoundPlan plan, int i) {
        if (i == plan.faults().size()) {
            return;
        }
        pause(plan.delays().get(i));
        Runnable heal = plan.faults().get(i).inject(system);
        try {
            strike(system, plan, i + 1);
            pause(plan.holds().get(i));
        } finally {
            heal.run();
        }
    }

    /** The faults' own timing (when to strike, how long to hold), not a wait for an outcome. */
    private static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        for (long left = d.toNanos(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private static void converge(CampaignSystem system, String when) {
        try {
            await().atMost(CONVERGENCE_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
                JsonNode v = system.primaryStatus();
                return v != null && "REPLICATING".equals(v.path("mode").asText()) && v.path("dirtyRegions").asLong() == 0
                        && v.path("pendingEras").isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no convergence after " + when + " within " + CONVERGENCE_TIMEOUT
                    + "; primary status: " + system.primaryStatus() + "; dead: " + system.deadProcesses(), e);
        }
    }

    private static void check(CampaignSystem system, RoundPlan plan) {
        ExternalCommand.Result flush = ExternalCommand.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", system.primaryUri(), "-c", "flush");
        assertThat(flush.exitCode()).as(flush.describe()).isZero();
        assertThat(differingRegions(system, plan.load())).as("regions the round wrote that differ on the replica").isEmpty();
        assertThat(Checksums.sha256(system.secondaryFile())).as("sha256 of replica equals source")
                .isEqualTo(Checksums.sha256(system.primaryFile()));
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> liveDirtyKeys(system) == 0);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("live dirty keys in the topic though every era is replayed: " + liveDirtyKeys(system)
                    + "; primary status: " + system.primaryStatus(), e);
        }
        // A link flap after convergence (a heartbeat late on a loaded box) is no fault of the round: wait it out.
        converge(system, "the checks of round " + plan.round());
        JsonNode v = system.primaryStatus();
        assertThat(v).as("status after convergence").isNotNull();
        assertThat(v.path("mode").asText() + " dirty " + v.path("dirtyRegions").asLong() + " pending " + v.path("pendingEras"))
                .as("status agrees with the topic").isEqualTo("REPLICATING dirty 0 pending []");
        assertThat(system.deadProcesses()).as("processes that exited").isEmpty();
        assertThat(system.uncaughtExceptions()).as("threads that died of an exception").isEmpty();
    }

    private static long era(CampaignSystem system) {
        JsonNode v = system.primaryStatus();
        return v == null ? -1 : v.path("era").asLong();
    }

    private static long liveDirtyKeys(CampaignSystem system) {
        Properties p = new Properties();
        p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, system.broker().bootstrapServers());
        try (DirtyTopicReader reader = new DirtyTopicReader(p, "blockrep.dirty")) {
            reader.rebuild(reader.partitions(Duration.ofSeconds(10)), Duration.ofSeconds(30));
            return reader.index().liveCount("vol");
        }
    }

    /** Regions of the load's range whose bytes differ between source and replica. */
    private static List<Long> differingRegions(CampaignSystem system, CampaignLoad load) {
        List<Long> differ = new ArrayList<>();
        byte[] a = new byte[CampaignSystem.REGION];
        byte[] b = new byte[CampaignSystem.REGION];
        try (RandomAccessFile source = new RandomAccessFile(system.primaryFile().toFile(), "r");
             RandomAccessFile replica = new RandomAccessFile(system.secondaryFile().toFile(), "r")) {
            for (long region = load.firstRegion(); region <= load.lastRegion(); region++) {
                source.seek(region * CampaignSystem.REGION);
                source.readFully(a);
                replica.seek(region * CampaignSystem.REGION);
                replica.readFully(b);
                if (!Arrays.equals(a, b)) {
                    differ.add(region);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot compare the load's regions: " + e, e);
        }
        return differ;
    }
}
