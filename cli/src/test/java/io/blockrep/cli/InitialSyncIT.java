package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.blockrep.common.volume.InitialSync;
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
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11 "Seen 0": a PRIMARY configured over an existing file that holds data and a fresh
 * SECONDARY must not call themselves in sync. The first attachment copies every region that holds
 * data, through the replayer, and skips holes and zeros.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class InitialSyncIT {
    private static final long SIZE = 64L << 20;
    private static final int R = 64 << 10;

    @TempDir
    Path dir;

    /**
     * A 64 MiB file: random bytes in some regions (a whole region, or only 4 KiB of one), zeros
     * written explicitly (allocated) in others, holes elsewhere. Returns the regions holding data.
     */
    static TreeSet<Integer> existingImage(Path file, long seed) throws IOException {
        Random random = new Random(seed);
        TreeSet<Integer> data = new TreeSet<>();
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE);
            byte[] block = new byte[R];
            for (int region = 0; region < SIZE / R; region++) {
                int pick = random.nextInt(10);
                if (pick == 0 || region == SIZE / R - 1) {
                    random.nextBytes(block);
                    f.seek((long) region * R);
                    f.write(block);
                    data.add(region);
                } else if (pick == 1) {
                    byte[] small = new byte[4096];
                    random.nextBytes(small);
                    f.seek((long) region * R + 4096L * random.nextInt(R / 4096));
                    f.write(small);
                    data.add(region);
                } else if (pick == 2) {
                    f.seek((long) region * R);
                    f.write(new byte[R]);
                }
            }
            f.getFD().sync();
        }
        return data;
    }

    /** Bytes of the file's allocated blocks ({@code stat %b} counts 512-byte blocks). */
    static long allocatedBytes(Path file) {
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(10), java.util.List.of("stat", "-c", "%b", file.toString()));
        assertThat(r.exitCode()).as(r.describe()).isZero();
        return Long.parseLong(r.stdout().trim()) * 512;
    }

    @Test
    void aPrimaryOverAnExistingFileFullySyncsItsFreshPeerSkippingHolesAndZeros(KafkaBroker kafka) throws IOException {
        Path existing = dir.resolve("existing.img");
        TreeSet<Integer> data = existingImage(existing, 11);
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers())
                .withPrimaryProperty("producer.volume.vol.path", existing.toString()).start()) {
            // No replayer yet: the volume waits in RESYNCING with every region that holds data dirty.
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.RESYNCING);
            VolumeStatus.InitialSyncProgress before = sites.siteA.status().volumes().get(0).initialSync();
            assertThat(before).isEqualTo(new VolumeStatus.InitialSyncProgress("RUNNING", data.size(), data.size(), 0, null));
            assertThat(sites.primary().dirtyRegions()).isEqualTo(data.size());
            assertThat(sites.atB().metadata().generations().currentId()).isNotEqualTo(sites.primary().metadata().generations().currentId());
            StringWriter table = new StringWriter();
            assertThat(Main.commandLine().setOut(new PrintWriter(table, true))
                    .execute("status", "--control", "127.0.0.1:" + sites.siteA.controlPort())).isZero();
            assertThat(table.toString()).contains("site-a/vol: initial sync 0%: " + data.size() + " of " + data.size() + " region(s) left");

            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(ResyncIT.replayerProps(kafka, sites, "r1"), Map.of()))) {
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING
                        && sites.atB().metadata().consistent());
            }
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals the existing data")
                    .isEqualTo(Checksums.sha256(existing));
            assertThat(sites.primary().dirtyRegions()).isZero();
            assertThat(sites.siteA.status().volumes().get(0).initialSync()).as("initial sync done").isNull();
            assertThat(sites.primary().metadata().initialSync()).isEqualTo(InitialSync.NONE);
            assertThat(sites.atB().metadata().generations().currentId()).isEqualTo(sites.primary().metadata().generations().currentId());
            // Only the regions holding data crossed: holes and written zeros stay holes on the replica.
            assertThat(allocatedBytes(sites.secondaryFile())).as("bytes allocated on the replica")
                    .isLessThanOrEqualTo((long) data.size() * R + (1 << 20));
        }
    }

    @Test
    void assumeCleanOnBothSidesSkipsTheInitialSyncAndSaysSo(KafkaBroker kafka) throws IOException {
        Path onA = dir.resolve("a.img");
        existingImage(onA, 12);
        Path onB = Files.copy(onA, dir.resolve("b.img"));
        Logger log = (Logger) org.slf4j.LoggerFactory.getLogger(VolumeStore.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers())
                .withPrimaryProperty("producer.volume.vol.path", onA.toString())
                .withPrimaryProperty("producer.volume.vol.assume.clean", "true")
                .withSecondaryProperty("producer.volume.vol.path", onB.toString())
                .withSecondaryProperty("producer.volume.vol.assume.clean", "true").start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            assertThat(sites.primary().dirtyRegions()).isZero();
            assertThat(sites.primary().metadata().initialSync()).isEqualTo(InitialSync.NONE);
            assertThat(sites.siteA.status().volumes().get(0).initialSync()).isNull();
        } finally {
            log.detachAppender(logged);
        }
        assertThat(logged.list).filteredOn(e -> e.getFormattedMessage().contains("created with assume-clean")).hasSize(2);
        assertThat(Checksums.sha256(onB)).isEqualTo(Checksums.sha256(onA));
    }
}
