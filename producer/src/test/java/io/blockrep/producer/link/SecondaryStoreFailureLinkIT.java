package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.Role;
import io.blockrep.producer.journal.DataSetJournal;
import io.blockrep.testkit.Tmpfs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secondary whose backing store fills up (a 4 MiB sparse volume file on a real 1 MiB tmpfs): the
 * write or data set it cannot store fails on the primary's side with the peer's IO_ERROR, and the
 * link goes down, so a primary leaves REPLICATING and resyncs once the store recovers (issue #11,
 * "a secondary whose disk fails keeps the primary REPLICATING").
 */
class SecondaryStoreFailureLinkIT {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path dir;
    Tmpfs store;
    LinkFixture secondarySide;
    LinkServer server;
    ReplicationLink link;
    final ReplicationLinkIT.Events events = new ReplicationLinkIT.Events();

    @BeforeEach
    void start() {
        store = Tmpfs.mount(dir.resolve("store"), 1 << 20);
        secondarySide = new LinkFixture(dir.resolve("b"));
        secondarySide.volume("vol-1", Role.SECONDARY, store.path().resolve("data.img"));
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), secondarySide);
        link = new ReplicationLink(LinkFixture.quickConfig(server.port()), List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 1);
    }

    @AfterEach
    void stop() throws Exception {
        LinkFixture.closeAll(link, server, secondarySide, store);
    }

    @Test
    void aWriteTheSecondaryCannotStoreFailsWithIoErrorAndTakesTheLinkDownUntilTheStoreRecovers() throws Exception {
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < 32; i++) { // 2 MiB onto 1 MiB of store
            acks.add(link.write("vol-1", (long) i * CHUNK, filled(i), false).toCompletableFuture());
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).handle((v, e) -> null).get(30, TimeUnit.SECONDS);
        Throwable first = acks.stream().filter(CompletableFuture::isCompletedExceptionally).findFirst()
                .map(SecondaryStoreFailureLinkIT::cause).orElse(null);
        assertThat(first).as("the write the secondary could not store fails on this side").isInstanceOf(LinkRefusedException.class);
        assertThat(((LinkRefusedException) first).status()).isEqualTo(LinkStatus.IO_ERROR);
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).alias("the link goes down after the peer's I/O error")
                .until(() -> !events.down.isEmpty());

        store.resize(8L << 20);
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 2);
        link.write("vol-1", 3L * CHUNK * 16, filled(99), true).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aDataSetTheSecondaryCannotApplyIsRefusedWithIoErrorLeavesNoJournalAndTakesTheLinkDown() throws Exception {
        List<ReplicationLink.Extent> extents = new ArrayList<>();
        for (int i = 0; i < 24; i++) { // 1.5 MiB onto 1 MiB of store; the journal lives in the state directory
            extents.add(new ReplicationLink.Extent((long) i * CHUNK, filled(i)));
        }
        CompletableFuture<Void> stage = link.sendDataSet("vol-1", 7, extents).toCompletableFuture();
        await().atMost(BOUND).until(stage::isDone);
        Throwable failure = cause(stage);
        assertThat(failure).as("the set's stage carries the peer's refusal").isInstanceOf(LinkRefusedException.class);
        assertThat(((LinkRefusedException) failure).status()).isEqualTo(LinkStatus.IO_ERROR);
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> !events.down.isEmpty());
        // A partly applied set's journal must not survive: a restart would re-apply its old data over
        // whatever the store took after it recovered. The sender resends the set (it was not acknowledged).
        Path volumeDir = secondarySide.store.volumeDir("vol-1");
        await().atMost(Duration.ofSeconds(5)).until(() -> DataSetJournal.live(volumeDir).isEmpty());
    }

    private static ByteBuffer filled(int seed) {
        byte[] b = new byte[CHUNK];
        java.util.Arrays.fill(b, (byte) (seed + 1));
        return ByteBuffer.wrap(b);
    }

    private static Throwable cause(CompletableFuture<?> f) {
        try {
            f.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause();
        }
    }
}
