package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

/** Two real facilities over real sockets, written to by real NBD clients. */
class ReplicationIT {
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        ExternalCommand.requireTool("nbdcopy", "libnbd-bin");
    }

    private static void qemuIo(String uri, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("failed").doesNotContain("error");
    }

    @Test
    void writesThroughNbdInReplicatingLeaveTheSecondaryByteIdentical() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            Path data = dir.resolve("random.bin");
            byte[] bytes = new byte[32 << 20];
            new Random(1).nextBytes(bytes);
            Files.write(data, bytes);
            ExternalCommand.Result copy = ExternalCommand.run(Duration.ofSeconds(120), "nbdcopy", data.toString(), sites.primaryUri());
            assertThat(copy.exitCode()).as(copy.describe()).isZero();
            qemuIo(sites.primaryUri(), "write -P 0x11 40M 1M", "write -z 48M 2M", "write -P 0x22 -q 63M 64k", "flush");

            assertThat(sites.primary().mode()).isEqualTo(Mode.REPLICATING);
            assertThat(sites.primary().dirtyRegions()).isZero();
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }

    @Test
    void cutLinkKeepsWritesSucceedingAndMarksExactlyTheWrittenRegions() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);

            Random random = new Random(2);
            TreeSet<Long> expected = new TreeSet<>();
            List<String> commands = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                long offset = (long) random.nextInt((int) (SIZE / 4096) - 64) * 4096;
                int length = 4096 * (1 + random.nextInt(40));
                commands.add("write -P " + (i + 1) + " " + offset + " " + length);
                for (long r = offset >> 16; r <= (offset + length - 1) >> 16; r++) {
                    expected.add(r);
                }
            }
            qemuIo(sites.primaryUri(), commands.toArray(String[]::new));

            assertThat(sites.primary().mode()).isEqualTo(Mode.LOGGING);
            RoaringBitmap dirty = sites.primary().tracker().dirtyRegions(sites.primary().era());
            List<Long> marked = new ArrayList<>();
            dirty.forEach((int r) -> marked.add((long) r));
            assertThat(marked).containsExactlyElementsOf(expected);
            assertThat(Checksums.sha256(sites.secondaryFile())).isNotEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }

    @Test
    void blackholedPeerIsDetectedByHeartbeatsAndWritesStillComplete() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.blackhole();
            // The write is in flight to a peer that never answers: it completes once the ack timeout
            // takes the link down, with its region marked dirty first.
            qemuIo(sites.primaryUri(), "write -P 0x33 1M 64k");
            assertThat(sites.primary().mode()).isEqualTo(Mode.LOGGING);
            assertThat(sites.primary().tracker().dirtyRegions(sites.primary().era()).contains(16)).isTrue();
        }
    }

    @Test
    void restoredLinkWithNothingDirtyReturnsToReplicating() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            sites.proxy.restore();
            // Nothing was written while down and no write was in flight: the replica is in sync.
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            qemuIo(sites.primaryUri(), "write -P 0x44 2M 128k", "flush");
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(Checksums.sha256(sites.primaryFile()));
        }
    }

    @Test
    void writesToAnExcludedRangeAreNeverMarked() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null)
                .withPrimaryProperty("producer.volume.vol.excluded", "16M-32M").start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            // Wholly inside the excluded range: nothing marked. Straddling its end: only the regions past it.
            qemuIo(sites.primaryUri(), "write -P 0x55 20M 4M", "write -P 0x56 31M 2M");
            RoaringBitmap dirty = sites.primary().tracker().dirtyRegions(sites.primary().era());
            List<Long> marked = new ArrayList<>();
            dirty.forEach((int r) -> marked.add((long) r));
            List<Long> expected = new ArrayList<>();
            for (long r = 32 * 16; r < 33 * 16; r++) {
                expected.add(r);
            }
            assertThat(marked).containsExactlyElementsOf(expected);
        }
    }
}
