package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.volume.Role;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12, deliver 2: an unexpected exception serving one link connection (a bug on the secondary's
 * side) escaped its thread as an uncaught exception, which the service's backstop would turn into an
 * exit, and the primary only saw the connection vanish. Now the connection ends with an ERROR of
 * status INTERNAL that names the failure, the primary's link goes down and reconnects, and the server
 * serves the new connection: the failure heals without the process.
 */
class LinkConnectionFailureIT {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    LinkFixture secondarySide;
    LinkServer server;
    ReplicationLink link;
    final ReplicationLinkIT.Events events = new ReplicationLinkIT.Events();
    final AtomicBoolean failNextLookup = new AtomicBoolean();

    @AfterEach
    void stop() throws Exception {
        LinkFixture.closeAll(link, server, secondarySide);
    }

    @Test
    void aBugServingAConnectionEndsThatConnectionWithAnErrorAndTheLinkReconnects() throws Exception {
        secondarySide = new LinkFixture(dir.resolve("b"));
        secondarySide.volume("vol-1", Role.SECONDARY, dir.resolve("data.img"));
        LinkVolumes failing = new LinkVolumes() {
            @Override
            public Optional<Entry> find(String volumeId) {
                if (failNextLookup.getAndSet(false)) {
                    throw new IllegalStateException("a bug looking the volume up (injected)");
                }
                return secondarySide.find(volumeId);
            }
        };
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), failing);
        link = new ReplicationLink(LinkFixture.quickConfig(server.port()), List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 1);

        failNextLookup.set(true);
        link.write("vol-1", 0, ByteBuffer.allocate(4096), false).toCompletableFuture().handle((v, e) -> null).get(10, TimeUnit.SECONDS);
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> !events.down.isEmpty());
        assertThat(events.down.get(0)).as("the primary is told why").contains("INTERNAL").contains("injected");

        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 2);
        link.write("vol-1", 4096, ByteBuffer.allocate(4096), true).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /**
     * A connect attempt that failed with an unexpected exception (here the facility's list of volumes to
     * offer) scheduled no reconnect: the primary's link stayed down for good behind a live process.
     */
    @Test
    void aBugDuringAConnectAttemptIsRetriedAfterTheBackoff() throws Exception {
        secondarySide = new LinkFixture(dir.resolve("b"));
        secondarySide.volume("vol-1", Role.SECONDARY, dir.resolve("data.img"));
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), secondarySide);
        AtomicBoolean failOffer = new AtomicBoolean(true);
        link = new ReplicationLink(LinkFixture.quickConfig(server.port()), () -> {
                    if (failOffer.getAndSet(false)) {
                        throw new IllegalStateException("a bug listing the volumes (injected)");
                    }
                    return List.of(LinkFixture.primaryInfo("vol-1"));
                }, events);
        link.start();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 1);
        assertThat(failOffer).isFalse();
    }
}
