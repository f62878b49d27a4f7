package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.BlockHashes;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.producer.journal.DataSetJournal;
import io.blockrep.testkit.net.LinkProxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReplicationLink#sendDataSet} and {@link ReplicationLink#hashes} against a real {@link LinkServer} through a {@link LinkProxy}. */
class DataSetLinkIT {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    LinkFixture secondarySide;
    LinkFixture primarySide;
    Volume source;
    Volume replica;
    Gate gate;
    LinkServer server;
    LinkProxy proxy;
    ReplicationLink link;
    final ReplicationLinkIT.Events events = new ReplicationLinkIT.Events();

    @BeforeEach
    void start() {
        secondarySide = new LinkFixture(dir.resolve("b"));
        replica = secondarySide.volume("vol-1", Role.SECONDARY);
        primarySide = new LinkFixture(dir.resolve("a"));
        source = primarySide.volume("vol-1", Role.PRIMARY);
        gate = new Gate(secondarySide);
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), gate);
        proxy = new LinkProxy("127.0.0.1", server.port());
        // Heartbeats and ack timeout long enough that only a cut takes the link down.
        link = new ReplicationLink(new LinkConfig("site-a", new HostPort("127.0.0.1", proxy.port()), SECRET,
                Duration.ofSeconds(30), Duration.ofSeconds(5), 3, Duration.ofMillis(500), Duration.ofMillis(10),
                Duration.ofMillis(100), Duration.ofMillis(50), 64L << 20), List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
        await().atMost(BOUND).pollInterval(Duration.ofMillis(5)).until(() -> events.restored.size() >= 1);
    }

    @AfterEach
    void stop() throws Exception {
        gate.release.countDown();
        link.close();
        proxy.close();
        server.close();
        secondarySide.close();
        primarySide.close();
    }

    @Test
    void aDataSetLandsWholeAndBothFilesHashEqual() throws Exception {
        List<ReplicationLink.Extent> extents = writeSource(1, 0, 300_000, 1_048_576, 3 * 1_048_576 + 5);
        link.sendDataSet("vol-1", 1, extents).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(LinkFixture.sha256(replica.metadata().path())).isEqualTo(LinkFixture.sha256(source.metadata().path()));
        assertThat(journals()).isEmpty();
    }

    @Test
    void hashesAreEqualForEqualDataAndDifferAfterAOneByteChange() throws Exception {
        link.sendDataSet("vol-1", 2, writeSource(2, 0, 65536, 2 * 65536)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        int block = 65536;
        List<byte[]> local = BlockHashes.of(source, 0, LinkFixture.SIZE, block);
        List<byte[]> remote = link.hashes("vol-1", 0, LinkFixture.SIZE, block).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(remote).hasSize(local.size()).usingElementComparator(java.util.Arrays::compare).isEqualTo(local);

        replica.write(2 * 65536 + 17, ByteBuffer.wrap(new byte[] {(byte) 0xEE}));
        List<byte[]> after = link.hashes("vol-1", 0, LinkFixture.SIZE, block).toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < local.size(); i++) {
            assertThat(java.util.Arrays.equals(after.get(i), local.get(i))).as("block %d", i).isEqualTo(i != 2);
        }
        List<byte[]> shortLast = link.hashes("vol-1", 0, 100_000, block).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(shortLast).hasSize(2).usingElementComparator(java.util.Arrays::compare)
                .isEqualTo(BlockHashes.of(source, 0, 100_000, block));
    }

    @Test
    void aCutDuringASetFailsTheStageWithLinkDownAndLeavesAllOrNothingOfIt() throws Exception {
        String before = LinkFixture.sha256(replica.metadata().path());
        List<ReplicationLink.Extent> extents = writeSource(3, 0, 1_048_576, 2 * 1_048_576);
        gate.blockAfter(2); // BEGIN passes, the server stalls on the first EXTENT's volume lookup
        CompletableFuture<Void> stage = link.sendDataSet("vol-1", 3, extents).toCompletableFuture();
        assertThat(gate.reached.await(10, TimeUnit.SECONDS)).isTrue();
        proxy.cut();
        await().atMost(BOUND).until(stage::isDone);
        assertThat(stage.handle((v, e) -> e).join()).isInstanceOf(LinkDownException.class);
        gate.release.countDown();
        await().atMost(BOUND).until(() -> server.connectionCount() == 0);
        assertThat(journals()).isEmpty();
        String expectedAll = LinkFixture.sha256(source.metadata().path());
        assertThat(LinkFixture.sha256(replica.metadata().path())).isIn(before, expectedAll);
    }

    /** Writes random extents of 64 KiB at each offset of the source and returns them as a set. */
    private List<ReplicationLink.Extent> writeSource(long seed, long... offsets) throws Exception {
        Random random = new Random(seed);
        List<ReplicationLink.Extent> extents = new ArrayList<>();
        for (long offset : offsets) {
            byte[] data = new byte[(int) Math.min(65536, LinkFixture.SIZE - offset)];
            random.nextBytes(data);
            source.write(offset, ByteBuffer.wrap(data));
            extents.add(new ReplicationLink.Extent(offset, ByteBuffer.wrap(data)));
        }
        return extents;
    }

    /** Journals a restart would act on: a connection keeps its last set's dropped journal for reuse. */
    private List<Path> journals() throws java.io.IOException {
        return DataSetJournal.live(secondarySide.store.volumeDir("vol-1"));
    }

    /** The fault seam: a volume lookup that, once armed, stalls the n-th call until released. */
    static final class Gate implements LinkVolumes {
        final LinkVolumes delegate;
        final AtomicInteger countdown = new AtomicInteger(Integer.MAX_VALUE);
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        Gate(LinkVolumes delegate) {
            this.delegate = delegate;
        }

        void blockAfter(int calls) {
            countdown.set(calls);
        }

        @Override
        public Optional<Entry> find(String volumeId) {
            if (countdown.decrementAndGet() == 0) {
                reached.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return delegate.find(volumeId);
        }
    }
}
