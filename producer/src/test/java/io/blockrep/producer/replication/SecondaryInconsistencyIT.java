package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.link.LinkConfig;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.link.ReplicationLink;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable inconsistency on the secondary (issue #11, "Deliver 4" / "Suspected 6"): the first data
 * set of a resync makes the secondary's copy inconsistent, persisted before anything of the set is
 * applied, whether or not the primary's GENERATION(inSync=false) got through; promote then refuses
 * the copy without {@code --force}, also after a restart.
 */
class SecondaryInconsistencyIT {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    @Test
    void aDataSetBegunOnTheSecondaryLeavesItsCopyInconsistentDurablyAndPromoteNeedsForce() throws Exception {
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, null).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> sites.atA().mode() == Mode.REPLICATING
                    && sites.atB().metadata().consistent());
            // The primary is gone (and with it any GENERATION message); a replayer-like sender reaches
            // site-b directly and sends one data set, as a resync does.
            sites.stopA();
            sendOneDataSet(sites.siteB.linkPort());

            assertThat(sites.atB().metadata().consistent()).as("inconsistent in memory").isFalse();
            assertThat(new VolumeStore(dir.resolve("site-b")).load("vol").consistent()).as("inconsistent on disk").isFalse();
            assertThatThrownBy(() -> sites.siteB.promote("vol", false))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("inconsistent");
            assertThat(sites.atB().role()).isEqualTo(Role.SECONDARY);

            sites.stopB();
            sites.startB();
            assertThat(sites.atB().metadata().consistent()).as("still inconsistent after a restart").isFalse();
            assertThatThrownBy(() -> sites.siteB.promote("vol", false)).hasMessageContaining("inconsistent");
            sites.siteB.promote("vol", true);
            assertThat(sites.atB().role()).isEqualTo(Role.PRIMARY);
        }
    }

    private static void sendOneDataSet(int port) throws Exception {
        AtomicInteger restored = new AtomicInteger();
        LinkListener listener = new LinkListener() {
            @Override
            public void onLinkRestored(LinkHandshake.Outcome handshake) {
                restored.incrementAndGet();
            }

            @Override
            public void onLinkDown(String reason) {
            }
        };
        LinkConfig config = new LinkConfig("replayer-test", new HostPort("127.0.0.1", port), SharedSecret.of(TwoSites.SECRET),
                Duration.ofSeconds(5), Duration.ofMillis(100), 5, Duration.ofSeconds(1), Duration.ofMillis(10),
                Duration.ofMillis(100), Duration.ofMillis(50), 64L << 20);
        // A sender that is not a facility offers no history, as the replayer does.
        List<VolumeInfo> offer = List.of(new VolumeInfo("vol", SIZE, 64 * 1024, Role.PRIMARY, List.of()));
        try (ReplicationLink link = new ReplicationLink(config, offer, listener)) {
            link.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> restored.get() > 0);
            byte[] data = new byte[64 * 1024];
            java.util.Arrays.fill(data, (byte) 0x5a);
            link.sendDataSet("vol", 1, List.of(new ReplicationLink.Extent(1L << 20, ByteBuffer.wrap(data))))
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
