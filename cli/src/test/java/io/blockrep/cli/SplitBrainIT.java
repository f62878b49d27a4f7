package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.control.VolumeStatus;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Roles across an outage, with embedded Kafka, two facilities, the replayer and qemu-io: a failover
 * (site-b promoted and written while cut) resyncs site-a from site-b's dirty regions only, and a
 * split brain is resolved either way by {@code blockrep resolve}, leaving byte-identical copies,
 * the discarded writes saved, and no live dirty key.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class SplitBrainIT {
    private static final long SIZE = 64L << 20;
    private static final int REGION = 64 << 10;

    @TempDir
    Path dir;

    private Path fileA() {
        return dir.resolve("site-a/volumes/vol/data.img");
    }

    private Path fileB() {
        return dir.resolve("site-b/volumes/vol/data.img");
    }

    private static String[] controls(TwoSites sites) {
        return new String[] {"--control", "127.0.0.1:" + sites.siteA.controlPort() + ",127.0.0.1:" + sites.siteB.controlPort()};
    }

    private static VolumeStatus status(io.blockrep.producer.Facility f) {
        return f.status().volumes().get(0);
    }

    /** Promotes site-b once it no longer sees site-a connected (the cut takes a heartbeat or two to notice). */
    private static void promoteSiteB(TwoSites sites) {
        String[] refusal = {""};
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try {
                    sites.siteB.promote("vol", false);
                    return true;
                } catch (io.blockrep.common.InvalidInputException e) {
                    refusal[0] = e.getMessage();
                    return false;
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("site-b was not promoted: " + refusal[0], e);
        }
    }

    /** Cuts both directions, promotes site-b, writes {@code onA} on site-a and {@code onB} on site-b, restores: split brain. */
    private static void splitBrain(TwoSites sites, List<String> onA, List<String> onB) {
        // A link hiccup under load before the cut would leave a resync for the test's replayer to finish first.
        await().atMost(Duration.ofSeconds(60)).until(() -> sites.atA().mode() == Mode.REPLICATING && sites.atA().dirtyRegions() == 0
                && sites.atB().metadata().consistent());
        sites.cutLink();
        await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);
        promoteSiteB(sites);
        ResyncIT.qemuIo(sites.primaryUri(), onA);
        ResyncIT.qemuIo(sites.siteBUri(), onB);
        sites.restoreLink();
        await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.SPLIT_BRAIN && sites.atB().mode() == Mode.SPLIT_BRAIN);
    }

    @Test
    void failoverResyncsTheOldPrimaryFromThePromotedSideCopyingOnlyItsDirtyRegions(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(ResyncIT.replayerProps(kafka, sites, "r-failover"), Map.of()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            ResyncIT.qemuIo(sites.primaryUri(), ResyncIT.randomWrites(41, 20));
            ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));

            sites.cutLink();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);
            promoteSiteB(sites);
            ResyncIT.qemuIo(sites.siteBUri(), List.of("write -P 0x51 1M 512k", "write -P 0x52 9M 64k", "write -P 0x53 20M 200k"));
            long written = 8 + 1 + 4;
            assertThat(sites.atB().dirtyRegions()).isEqualTo(written);
            assertThat(sites.atA().dirtyRegions()).as("site-a took no write during the outage").isZero();

            sites.restoreLink();
            await().atMost(Duration.ofSeconds(60)).until(() -> sites.atA().role() == Role.SECONDARY && sites.atB().mode() == Mode.REPLICATING);
            assertThat(sites.atA().peerState().decision().name()).isIn("PEER_NEWER", "SAME");
            ResyncIT.qemuIo(sites.siteBUri(), List.of("flush"));
            assertThat(Checksums.sha256(fileA())).as("site-a equals the promoted site-b").isEqualTo(Checksums.sha256(fileB()));
            assertThat(status(sites.siteB).replay().bytesTotal()).as("only site-b's dirty regions were copied").isEqualTo(written * REGION);
            assertThat(sites.atA().metadata().generations().currentId()).isEqualTo(sites.atB().metadata().generations().currentId());
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
        }
    }

    @Test
    void resolveInFavourOfSiteAOverwritesSiteBAndSavesItsDiscardedWrites(KafkaBroker kafka) throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayerService service = ReplayerService.start(ReplayerConfig.from(ResyncIT.replayerProps(kafka, sites, "r-service"), Map.of()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x01 0 8M", "flush"));
            splitBrain(sites, List.of("write -P 0xaa 1M 1M", "write -P 0xab 16M 64k"),
                    List.of("write -P 0xbb 1536k 1M", "write -P 0xbc 24M 128k"));
            String hashA = Checksums.sha256(fileA());

            Path config = BlockrepProcess.write(dir.resolve("replayer.properties"), ResyncIT.replayerProps(kafka, sites, "r-resolve"));
            Path saved = dir.resolve("site-b-discarded.img");
            int exit = Main.run(concat(new String[] {"resolve", "vol", "--primary", "site-a", "--config", config.toString(),
                    "--save-discarded", saved.toString(), "--yes", "--timeout", "2m"}, controls(sites)));
            assertThat(exit).isZero();

            assertThat(sites.atA().mode()).isEqualTo(Mode.REPLICATING);
            assertThat(sites.atB().role()).isEqualTo(Role.SECONDARY);
            assertThat(Checksums.sha256(fileA())).as("site-a kept its data").isEqualTo(hashA);
            assertThat(Checksums.sha256(fileB())).as("site-b equals site-a").isEqualTo(hashA);
            // The discarded writes are in the saved image at their offsets; the rest of it is empty.
            assertThat(Files.size(saved)).isEqualTo(SIZE);
            assertThat(range(saved, 1536 << 10, 1 << 20)).containsOnly((byte) 0xbb);
            assertThat(range(saved, 24 << 20, 128 << 10)).containsOnly((byte) 0xbc);
            assertThat(range(saved, 40 << 20, 1 << 20)).containsOnly((byte) 0);
            assertThat(range(saved, 0, 1 << 20)).containsOnly((byte) 0);
            assertThat(range(saved, 16 << 20, 64 << 10)).containsOnly((byte) 0);
            assertThat(sites.atA().metadata().generations().currentId()).isEqualTo(sites.atB().metadata().generations().currentId());
            await().atMost(Duration.ofSeconds(10)).until(() -> status(sites.siteA).peer().decision().equals("SAME")
                    && status(sites.siteB).peer().decision().equals("SAME"));
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
        }
    }

    @Test
    void resolveInFavourOfSiteBOverwritesSiteA(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayerService service = ReplayerService.start(ReplayerConfig.from(ResyncIT.replayerProps(kafka, sites, "r-service"), Map.of()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            splitBrain(sites, List.of("write -P 0xaa 1M 1M", "write -P 0xab 30M 64k"), List.of("write -P 0xbb 1536k 1M"));
            String hashB = Checksums.sha256(fileB());

            Path config = BlockrepProcess.write(dir.resolve("replayer.properties"), ResyncIT.replayerProps(kafka, sites, "r-resolve-b"));
            assertThat(Main.run(concat(new String[] {"resolve", "vol", "--primary", "site-b", "--config", config.toString(), "--yes",
                    "--timeout", "2m"}, controls(sites)))).isZero();

            assertThat(sites.atB().mode()).isEqualTo(Mode.REPLICATING);
            assertThat(sites.atA().role()).isEqualTo(Role.SECONDARY);
            assertThat(Checksums.sha256(fileB())).isEqualTo(hashB);
            assertThat(Checksums.sha256(fileA())).as("site-a equals site-b").isEqualTo(hashB);
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
            // The verbs refuse what would make two primaries: site-a cannot be promoted while site-b is connected and PRIMARY.
            assertThat(Main.run("promote", "vol", "--control", "127.0.0.1:" + sites.siteA.controlPort())).isEqualTo(64);
            assertThat(sites.atA().role()).isEqualTo(Role.SECONDARY);
            // Nothing left to resolve: a second run refuses with a usage error.
            assertThat(Main.run(concat(new String[] {"resolve", "vol", "--primary", "site-b", "--config", config.toString(), "--yes"},
                    controls(sites)))).isEqualTo(64);
        }
    }

    @Test
    void unrelatedCopiesAreJoinedOnlyByAnExplicitFullCopy(KafkaBroker kafka) throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            ResyncIT.qemuIo(sites.primaryUri(), List.of("write -P 0x61 0 3M", "flush"));
            // site-b's copy is replaced by an unrelated one: other data, a generation site-a never had.
            sites.stopB();
            VolumeStore storeB = new VolumeStore(dir.resolve("site-b"));
            storeB.save(storeB.load("vol").withGenerations(new GenerationHistory(List.of(new Generation(0x5eed, "elsewhere", 1)), 0x5eed, true)));
            try (RandomAccessFile f = new RandomAccessFile(fileB().toFile(), "rw")) {
                byte[] other = new byte[4 << 20];
                Arrays.fill(other, (byte) 0x77);
                f.seek(10 << 20);
                f.write(other);
            }
            sites.startB();
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().modeReason().contains("unrelated"));
            assertThat(Checksums.sha256(fileB())).isNotEqualTo(Checksums.sha256(fileA()));

            Path config = BlockrepProcess.write(dir.resolve("replayer.properties"), ResyncIT.replayerProps(kafka, sites, "r-full"));
            assertThat(Main.run("replay", "vol", "--config", config.toString(), "--full", "--timeout", "2m")).isZero();
            assertThat(sites.atA().mode()).isEqualTo(Mode.REPLICATING);
            assertThat(Checksums.sha256(fileB())).as("the full copy made site-b equal to site-a").isEqualTo(Checksums.sha256(fileA()));
            assertThat(sites.atB().metadata().consistent()).isTrue();
        }
    }

    private static byte[] range(Path file, long offset, int length) throws IOException {
        byte[] bytes = new byte[length];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            f.readFully(bytes);
        }
        return bytes;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
