package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.schemas.EventType;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a replayer process in the middle of a replay: the facilities stay in RESYNCING, a new
 * replayer in the same group rebuilds the dirty set from the topic (the data sets the dead one had
 * tombstoned are no longer live), copies the rest, and the replica ends byte-identical.
 */
@Tag("slow")
@ExtendWith(KafkaBrokerExtension.class)
class ReplayerKillIT {
    private static final long SIZE = 128L << 20;
    private static final String GROUP = "replayer-kill";

    @TempDir
    Path dir;

    @Test
    void aReplayerKilledMidReplayIsReplacedAndTheReplicaCatchesUp(KafkaBroker kafka) {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers()).start();
             ReplayEventsTail events = new ReplayEventsTail(kafka.bootstrapServers(), "blockrep.events")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            ScatteredWrites.write(sites.primaryUri(), SIZE, 40L << 20, 11);
            long dirty = sites.primary().dirtyRegions();
            assertThat(dirty).as("~40 MiB of 64 KiB regions").isGreaterThan(400);

            Properties slow = ResyncIT.replayerProps(kafka, sites, "r-slow");
            slow.setProperty("replayer.group.id", GROUP);
            slow.setProperty("replayer.rate", "4M");
            slow.setProperty("replayer.dataset.bytes", "4M");
            slow.setProperty("replayer.kafka.session.timeout.ms", "6000");
            try (ExternalCommand.Running first = BlockrepProcess.start("replayer", BlockrepProcess.write(dir.resolve("r-slow.properties"), slow))) {
                sites.proxy.restore();
                // REPLAY_STARTED is published after the first data set is applied and its tombstones sent.
                BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInSameThread(),
                        () -> !first.isAlive() || events.has("vol", "r-slow", EventType.REPLAY_STARTED), first);
                assertThat(first.isAlive()).as(first.stderr()).isTrue();
                first.kill();
                assertThat(sites.primary().mode()).as("killed mid-replay: the resync is not finished").isEqualTo(Mode.RESYNCING);
                assertThat(events.has("vol", "r-slow", EventType.REPLAY_FINISHED)).isFalse();
            }
            long leftAfterKill = ResyncIT.liveDirtyKeys(kafka, "vol");
            assertThat(leftAfterKill).as("live dirty keys after the kill").isPositive();

            Properties fast = ResyncIT.replayerProps(kafka, sites, "r-fast");
            fast.setProperty("replayer.group.id", GROUP);
            fast.setProperty("replayer.rate", "0");
            try (ExternalCommand.Running second = BlockrepProcess.start("replayer", BlockrepProcess.write(dir.resolve("r-fast.properties"), fast))) {
                BlockrepProcess.await(await().atMost(Duration.ofSeconds(90)),
                        () -> !second.isAlive() || sites.primary().mode() == Mode.REPLICATING, second);
                assertThat(second.isAlive()).as(second.stderr()).isTrue();
                assertThat(sites.primary().mode()).isEqualTo(Mode.REPLICATING);
                await().atMost(Duration.ofSeconds(10)).pollInSameThread()
                        .until(() -> events.has("vol", "r-fast", EventType.REPLAY_FINISHED));
            }
            ScatteredWrites.flush(sites.primaryUri());
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));
            assertThat(sites.primary().dirtyRegions()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> ResyncIT.liveDirtyKeys(kafka, "vol") == 0);
        }
    }
}
