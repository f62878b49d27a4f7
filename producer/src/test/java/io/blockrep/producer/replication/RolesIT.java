package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Roles and generations between two real facilities over real sockets, written to by qemu-io:
 * a planned switchover, split brain detected at reconnect, and unrelated copies refused.
 */
class RolesIT {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
    }

    private static ExternalCommand.Result qemuIo(String uri, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        return ExternalCommand.run(Duration.ofSeconds(60), cmd);
    }

    private static void write(String uri, String... commands) {
        ExternalCommand.Result r = qemuIo(uri, commands);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("failed").doesNotContain("error");
    }

    @Test
    void plannedSwitchoverMovesThePrimaryAndTheOldPrimaryFollows() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            write(sites.primaryUri(), "write -P 0x11 0 1M", "flush");
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.atB().peerState() != null
                    && sites.atB().peerState().peerRole() == Role.PRIMARY);

            assertThatThrownBy(() -> sites.siteB.promote("vol", false))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("connected and PRIMARY");
            assertThat(sites.atB().role()).isEqualTo(Role.SECONDARY);

            sites.siteA.demote("vol", false);
            assertThat(sites.atA().role()).isEqualTo(Role.SECONDARY);
            ExternalCommand.Result refused = qemuIo(sites.primaryUri(), "write -P 0x99 0 4k");
            assertThat(refused.exitCode() != 0 || (refused.stdout() + refused.stderr()).contains("failed"))
                    .as("a write to the demoted export is refused: " + refused.describe()).isTrue();

            sites.siteB.promote("vol", false);
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atB().mode() == Mode.REPLICATING);
            write(sites.siteBUri(), "write -P 0x22 2M 3M", "write -P 0x33 15M 64k", "flush");

            assertThat(sites.atB().dirtyRegions()).isZero();
            assertThat(Checksums.sha256(sites.primaryFile())).isEqualTo(Checksums.sha256(sites.secondaryFile()));
            // Roles are persisted: they survive a restart of both facilities (the primary, site-b now,
            // stops first so its peer confirms the last flush and nothing is left dirty).
            sites.stopB();
            sites.stopA();
            sites.startA();
            sites.startB();
            assertThat(sites.atA().role()).isEqualTo(Role.SECONDARY);
            assertThat(sites.atB().role()).isEqualTo(Role.PRIMARY);
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atB().mode() == Mode.REPLICATING);
        }
    }

    @Test
    void bothSidesWritingWhileCutIsSplitBrainOnBothAndNothingIsCopied() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            write(sites.primaryUri(), "write -P 0x01 0 4M", "flush");
            sites.cutLink();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);

            sites.siteB.promote("vol", false);
            assertThat(sites.atB().mode()).isEqualTo(Mode.LOGGING);
            write(sites.primaryUri(), "write -P 0xaa 1M 1M", "write -P 0xab 8M 64k");   // A only
            write(sites.siteBUri(), "write -P 0xbb 1536k 1M", "write -P 0xbc 12M 64k");  // B only, overlapping A at 1.5M-2M
            String hashA = Checksums.sha256(sites.primaryFile());
            String hashB = Checksums.sha256(sites.secondaryFile());
            assertThat(hashA).isNotEqualTo(hashB);

            sites.restoreLink();
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.SPLIT_BRAIN
                    && sites.atB().mode() == Mode.SPLIT_BRAIN);
            assertThat(sites.atA().peerState().decision()).isEqualTo(SyncDecision.SPLIT_BRAIN);
            assertThat(sites.atB().peerState().decision()).isEqualTo(SyncDecision.SPLIT_BRAIN);
            assertThat(sites.siteA.status().volumes().get(0).mode()).isEqualTo("SPLIT_BRAIN");

            // Both keep serving and logging; neither copy is touched by the other.
            write(sites.primaryUri(), "write -P 0xac 9M 64k");
            String hashA2 = Checksums.sha256(sites.primaryFile());
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() ->
                    Checksums.sha256(sites.primaryFile()).equals(hashA2) && Checksums.sha256(sites.secondaryFile()).equals(hashB));
            assertThat(sites.atA().mode()).isEqualTo(Mode.SPLIT_BRAIN);
            assertThat(sites.atA().dirtyRegions()).isEqualTo(16 + 1 + 1);
            assertThat(sites.atB().dirtyRegions()).isEqualTo(16 + 1);
        }
    }

    @Test
    void resolvingMergesTheLosersChangesIntoTheSurvivorWhichThenResyncsTheUnion() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            sites.cutLink();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.atA().mode() == Mode.LOGGING);
            sites.siteB.promote("vol", false);
            write(sites.primaryUri(), "write -P 0xaa 0 1M");          // A: regions 0-15
            write(sites.siteBUri(), "write -P 0xbb 512k 1M", "write -P 0xbc 8M 64k");  // B: regions 8-23 and 128
            sites.restoreLink();
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.SPLIT_BRAIN
                    && sites.atB().mode() == Mode.SPLIT_BRAIN);
            String hashB = Checksums.sha256(sites.secondaryFile());

            // resolve --primary site-a, step by step as the CLI does it
            sites.siteB.demote("vol", true);
            var loser = sites.siteB.dirtyRegions("vol");
            assertThat(loser.regions()).isEqualTo(17);
            assertThat(sites.siteA.mergeLoserRegions("vol", loser.runs(), false)).isEqualTo(8 + 1);
            long common = sites.atA().metadata().generations().newestCommonWith(sites.atB().metadata().generations());
            assertThat(sites.siteB.discardOwnChanges("vol", common)).isEqualTo(17);

            // No replayer here: the survivor attaches the loser and starts resyncing the union (16 + 8 + 1 regions).
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.RESYNCING);
            assertThat(sites.atA().dirtyRegions()).isEqualTo(16 + 8 + 1);
            assertThat(sites.atB().dirtyRegions()).isZero();
            assertThat(sites.atB().metadata().consistent()).isFalse();
            assertThat(sites.atB().peerState().decision()).isEqualTo(SyncDecision.PEER_NEWER);
            assertThat(Checksums.sha256(sites.secondaryFile())).isEqualTo(hashB);
        }
    }

    @Test
    void unrelatedCopiesAreRefusedAndNothingIsWritten() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.REPLICATING);
            sites.stopB();
            VolumeStore storeB = new VolumeStore(dir.resolve("site-b"));
            storeB.save(storeB.load("vol").withGenerations(
                    new GenerationHistory(List.of(new Generation(0x5eed, "elsewhere", 1)), 0x5eed, true)));
            String hashB = Checksums.sha256(sites.secondaryFile());
            sites.startB();

            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().peerState() != null
                    && sites.atA().peerState().decision() == SyncDecision.UNRELATED);
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().modeReason().contains("unrelated"));
            write(sites.primaryUri(), "write -P 0x42 0 2M", "flush");
            assertThat(sites.atA().mode()).isEqualTo(Mode.LOGGING);
            assertThat(sites.atA().modeReason()).contains("--full");
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                    .until(() -> Checksums.sha256(sites.secondaryFile()).equals(hashB));
        }
    }
}
