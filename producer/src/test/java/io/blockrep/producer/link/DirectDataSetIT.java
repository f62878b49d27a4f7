package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.producer.journal.DataSetJournal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DIRECT data sets (the replayer's copies) over a real {@link LinkServer} with the replayer's
 * {@link LinkClient}: the extents land on the volume without a journal file ever being made, the set
 * is counted as applied, one that is refused is not; and HASH of never-written regions answers the
 * SHA-256 of zeros (computed there without hashing), which is what lets a copy skip them.
 */
class DirectDataSetIT {
    @TempDir
    Path dir;
    LinkFixture fixture;
    LinkServer server;
    LinkClient client;
    Volume replica;

    @BeforeEach
    void start() {
        fixture = new LinkFixture(dir);
        replica = fixture.volume("vol-1", Role.SECONDARY);
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET), fixture);
        client = new LinkClient("replayer-1", new HostPort("127.0.0.1", server.port()), SECRET,
                List.of(LinkFixture.primaryInfo("vol-1")), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        LinkFixture.closeAll(client, server, fixture);
    }

    private static ByteBuffer random(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    @Test
    void aDirectSetLandsOnTheVolumeWithoutAJournalAndIsCounted() throws Exception {
        ByteBuffer a = random(LinkFixture.REGION, 1);
        ByteBuffer b = random(3 * LinkFixture.REGION, 2);
        client.sendDataSet("vol-1", 7, List.of(new LinkClient.Extent(0, a.duplicate()),
                new LinkClient.Extent(5L * LinkFixture.REGION, b.duplicate())), true);

        byte[] file = Files.readAllBytes(replica.metadata().path());
        assertThat(ByteBuffer.wrap(file, 0, LinkFixture.REGION)).isEqualTo(a);
        assertThat(ByteBuffer.wrap(file, 5 * LinkFixture.REGION, 3 * LinkFixture.REGION)).isEqualTo(b);
        assertThat(journalFiles()).as("a direct set is never journaled").isEmpty();
        assertThat(fixture.applied.get()).isEqualTo(4L * LinkFixture.REGION);
    }

    @Test
    void aDirectSetWithAnExtentOutsideTheVolumeIsRefusedAndNotCounted() {
        assertThatThrownBy(() -> client.sendDataSet("vol-1", 8, List.of(new LinkClient.Extent(0, random(4096, 3)),
                new LinkClient.Extent(LinkFixture.SIZE, random(4096, 4))), true))
                .hasMessageContaining("OUT_OF_RANGE");
        assertThat(fixture.applied.get()).isZero();
    }

    @Test
    void hashesOfNeverWrittenRegionsAreTheDigestsOfZeros() throws Exception {
        client.sendDataSet("vol-1", 9, List.of(new LinkClient.Extent(LinkFixture.REGION, random(LinkFixture.REGION, 5))), true);
        List<byte[]> hashes = client.hashes("vol-1", 0, 3L * LinkFixture.REGION, LinkFixture.REGION);
        byte[] zeros = MessageDigest.getInstance("SHA-256").digest(new byte[LinkFixture.REGION]);
        assertThat(hashes).hasSize(3);
        assertThat(hashes.get(0)).isEqualTo(zeros);
        assertThat(hashes.get(1)).isNotEqualTo(zeros);
        assertThat(hashes.get(2)).isEqualTo(zeros);
    }

    @Test
    void aReadOfNeverWrittenRangesIsAnsweredAsZerosAndStillReturnsEveryByte() throws Exception {
        ByteBuffer data = random(LinkFixture.REGION, 6);
        client.sendDataSet("vol-1", 10, List.of(new LinkClient.Extent(2L * LinkFixture.REGION, data.duplicate())), true);
        ByteBuffer into = ByteBuffer.allocate(4 * LinkFixture.REGION + 4 * 64);
        List<ByteBuffer> got = client.read("vol-1", List.of(new LinkClient.ReadRange(0, LinkFixture.REGION),
                new LinkClient.ReadRange(2L * LinkFixture.REGION, LinkFixture.REGION),
                new LinkClient.ReadRange(3L * LinkFixture.REGION, 2 * LinkFixture.REGION)), into);
        assertThat(got.get(0)).isEqualTo(ByteBuffer.allocate(LinkFixture.REGION));
        assertThat(got.get(1)).isEqualTo(data);
        assertThat(got.get(2)).isEqualTo(ByteBuffer.allocate(2 * LinkFixture.REGION));
    }

    private List<Path> journalFiles() throws java.io.IOException {
        Path journals = fixture.store.volumeDir("vol-1").resolve(DataSetJournal.DIRECTORY);
        if (!Files.isDirectory(journals)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(journals)) {
            return s.toList();
        }
    }
}
