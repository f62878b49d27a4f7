package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkClient.ReadRange;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * READ (and HASH) over a real {@link LinkServer} with the replayer's {@link LinkClient}: the bytes
 * of the backing file, for a volume in either role and without attaching it; a range outside the
 * volume or an unknown volume is refused whole, and later reads still work.
 */
class LinkReadIT {
    @TempDir
    Path dir;
    LinkFixture fixture;
    LinkServer server;
    LinkClient client;
    Volume primary;
    Volume secondary;

    @BeforeEach
    void start() throws IOException {
        fixture = new LinkFixture(dir);
        primary = fixture.volume("vol-p", Role.PRIMARY);
        secondary = fixture.volume("vol-s", Role.SECONDARY);
        fill(primary, 1);
        fill(secondary, 2);
        server = LinkServer.start(LinkServerConfig.defaults("site-a", SECRET), fixture);
        // The replayer attaches nothing: READ needs only authentication.
        client = new LinkClient("replayer-1", new HostPort("127.0.0.1", server.port()), SECRET, List.of(), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
        fixture.close();
    }

    private static void fill(Volume v, long seed) throws IOException {
        byte[] bytes = new byte[(int) LinkFixture.SIZE];
        new Random(seed).nextBytes(bytes);
        v.write(0, ByteBuffer.wrap(bytes));
        v.flush();
    }

    private static byte[] fileBytes(Volume v, long offset, int length) throws IOException {
        byte[] all = Files.readAllBytes(v.metadata().path());
        return Arrays.copyOfRange(all, (int) offset, (int) offset + length);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void aReadReturnsTheBytesOfTheFileForAVolumeInEitherRole() throws IOException {
        assertThat(bytes(client.read("vol-p", 65536, 100_000))).isEqualTo(fileBytes(primary, 65536, 100_000));
        assertThat(bytes(client.read("vol-s", 0, 4096))).isEqualTo(fileBytes(secondary, 0, 4096));
        long lastByte = LinkFixture.SIZE - 1;
        assertThat(bytes(client.read("vol-p", lastByte, 1))).isEqualTo(fileBytes(primary, lastByte, 1));
    }

    @Test
    void pipelinedReadsOfTheWholeVolumeReassembleTheFile() throws IOException {
        List<ReadRange> ranges = new ArrayList<>();
        for (long offset = 0; offset < LinkFixture.SIZE; offset += 1 << 20) {
            ranges.add(new ReadRange(offset, 1 << 20));
        }
        List<ByteBuffer> parts = client.read("vol-p", ranges);
        ByteBuffer whole = ByteBuffer.allocate((int) LinkFixture.SIZE);
        parts.forEach(p -> whole.put(p.duplicate()));
        assertThat(whole.array()).isEqualTo(Files.readAllBytes(primary.metadata().path()));
    }

    @Test
    void aRangeOutsideTheVolumeIsRefusedWholeAndLaterReadsStillWork() throws IOException {
        assertThatThrownBy(() -> client.read("vol-p", LinkFixture.SIZE - 4096, 8192))
                .isInstanceOf(FatalException.class).hasMessageContaining("OUT_OF_RANGE");
        assertThatThrownBy(() -> client.read("vol-p", LinkFixture.SIZE, 1))
                .isInstanceOf(FatalException.class).hasMessageContaining("OUT_OF_RANGE");
        assertThatThrownBy(() -> client.read("no-such-vol", 0, 4096))
                .isInstanceOf(FatalException.class).hasMessageContaining("UNKNOWN_VOLUME");
        // A refusal in a pipelined batch fails the whole call: no partial result reaches the caller.
        assertThatThrownBy(() -> client.read("vol-p", List.of(new ReadRange(0, 4096), new ReadRange(LinkFixture.SIZE, 4096))))
                .isInstanceOf(FatalException.class).hasMessageContaining("OUT_OF_RANGE");
        assertThat(bytes(client.read("vol-p", 0, 4096))).isEqualTo(fileBytes(primary, 0, 4096));
    }

    @Test
    void hashesAreAnsweredForAVolumeThatIsNotAttachedToo() throws IOException {
        List<byte[]> remote = client.hashes("vol-p", 0, LinkFixture.SIZE, LinkFixture.REGION);
        List<byte[]> local = io.blockrep.common.link.BlockHashes.of(primary, 0, LinkFixture.SIZE, LinkFixture.REGION);
        assertThat(remote).hasSameSizeAs(local);
        for (int i = 0; i < local.size(); i++) {
            assertThat(remote.get(i)).as("region %d", i).isEqualTo(local.get(i));
        }
        assertThatThrownBy(() -> client.hashes("no-such-vol", 0, 4096, 4096)).isInstanceOf(FatalException.class)
                .hasMessageContaining("UNKNOWN_VOLUME");
    }

    @Test
    void aPeerWithoutTheSecretReadsNothing() {
        try (LinkClient stranger = new LinkClient("replayer-1", new HostPort("127.0.0.1", server.port()),
                io.blockrep.common.link.SharedSecret.of("not-the-link-secret-0000"), List.of(), Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> stranger.read("vol-p", 0, 4096)).hasMessageContaining("AUTH_FAILED");
        }
    }
}
