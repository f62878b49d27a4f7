package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.producer.nbd.RawNbdClient.OptionReply;
import io.blockrep.producer.nbd.RawNbdClient.Reply;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Negotiation and transmission against a real server on loopback, byte by byte, with in-memory exports. */
class NbdConnectionTest {
    private static final int SIZE = 1 << 20;
    private static final int FIXED_NO_ZEROES = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    private final MemoryExport disk = new MemoryExport("disk", SIZE, false);
    private final MemoryExport ro = new MemoryExport("ro", SIZE, true);
    private NbdServer server;
    private RawNbdClient client;

    @BeforeEach
    void start() throws IOException {
        server = new NbdServer(NbdServer.Config.of(NbdExportRegistry.of(disk, ro)));
        server.start();
        client = new RawNbdClient(server.port());
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    private void goTo(String export) throws IOException {
        client.greet(FIXED_NO_ZEROES);
        assertThat(client.go(export)).isEqualTo(SIZE);
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void greetingAdvertisesFixedNewstyleAndNoZeroes() throws IOException {
        assertThat(client.greet(FIXED_NO_ZEROES)).isEqualTo(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
    }

    @Test
    void listNamesEveryExportThenAcks() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        client.option(OPT_LIST, ByteBuffer.allocate(0));
        Set<String> names = new HashSet<>();
        OptionReply r;
        while ((r = client.optionReply()).type() == REP_SERVER) {
            int len = r.data().getInt();
            names.add(StandardCharsets.UTF_8.decode(r.data().limit(4 + len)).toString());
        }
        assertThat(r.type()).isEqualTo(REP_ACK);
        assertThat(names).containsExactlyInAnyOrder("disk", "ro");
    }

    @Test
    void infoReportsSizeFlagsAndBlockSizeThenNegotiationGoesOn() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        client.option(OPT_INFO, RawNbdClient.infoData("ro", INFO_BLOCK_SIZE));
        ByteBuffer export = client.optionReply().data();
        assertThat(export.getShort()).isEqualTo((short) INFO_EXPORT);
        assertThat(export.getLong()).isEqualTo(SIZE);
        assertThat(export.getShort() & TFLAG_READ_ONLY).isEqualTo(TFLAG_READ_ONLY);
        ByteBuffer block = client.optionReply().data();
        assertThat(block.getShort()).isEqualTo((short) INFO_BLOCK_SIZE);
        assertThat(new int[] {block.getInt(), block.getInt(), block.getInt()}).containsExactly(1, 4096, MAX_PAYLOAD);
        assertThat(client.optionReply().type()).isEqualTo(REP_ACK);
        assertThat(client.go("disk")).isEqualTo(SIZE);
    }

    @Test
    void unknownOptionsAndStructuredRepliesAreUnsupported() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        for (int option : new int[] {OPT_STRUCTURED_REPLY, OPT_STARTTLS, 42}) {
            client.option(option, ByteBuffer.allocate(0));
            OptionReply r = client.optionReply();
            assertThat(r.option()).isEqualTo(option);
            assertThat(r.type()).isEqualTo(REP_ERR_UNSUP);
        }
        assertThat(client.go("disk")).isEqualTo(SIZE);
    }

    @Test
    void unknownExportIsRefusedAndMalformedInfoIsInvalid() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        client.option(OPT_GO, RawNbdClient.infoData("nope"));
        assertThat(client.optionReply().type()).isEqualTo(REP_ERR_UNKNOWN);
        client.option(OPT_GO, RawNbdClient.infoData("", 0)); // two exports: no default
        assertThat(client.optionReply().type()).isEqualTo(REP_ERR_UNKNOWN);
        client.option(OPT_INFO, ByteBuffer.wrap(new byte[] {0, 0, 0, 9, 'x'}));
        assertThat(client.optionReply().type()).isEqualTo(REP_ERR_INVALID);
        client.option(OPT_LIST, ByteBuffer.wrap(new byte[] {1}));
        assertThat(client.optionReply().type()).isEqualTo(REP_ERR_INVALID);
    }

    @Test
    void exportNameSendsSizeFlagsAndPaddingUnlessNoZeroes() throws IOException {
        client.greet(CLIENT_FLAG_FIXED_NEWSTYLE);
        client.option(OPT_EXPORT_NAME, ByteBuffer.wrap("disk".getBytes(StandardCharsets.UTF_8)));
        ByteBuffer reply = client.readN(8 + 2 + EXPORT_NAME_PADDING);
        assertThat(reply.getLong()).isEqualTo(SIZE);
        assertThat(reply.getShort() & TFLAG_SEND_FUA).isNotZero();
        client.request(CMD_FLUSH, 0, 7, 0, 0);
        assertThat(client.reply()).isEqualTo(new Reply(0, 7));
    }

    @Test
    void exportNameForAnUnknownExportClosesTheConnection() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        client.option(OPT_EXPORT_NAME, ByteBuffer.wrap("nope".getBytes(StandardCharsets.UTF_8)));
        assertThat(client.closedByServer()).isTrue();
    }

    @Test
    void abortIsAcknowledgedAndCloses() throws IOException {
        client.greet(FIXED_NO_ZEROES);
        client.option(OPT_ABORT, ByteBuffer.allocate(0));
        assertThat(client.optionReply().type()).isEqualTo(REP_ACK);
        assertThat(client.closedByServer()).isTrue();
    }

    @Test
    void writeReadRoundTripAndFuaFlushes() throws IOException {
        goTo("disk");
        client.request(CMD_WRITE, CMD_FLAG_FUA, 1, 4096, 512);
        client.send(filled(512, 0xab));
        assertThat(client.reply()).isEqualTo(new Reply(0, 1));
        assertThat(disk.flushes.get()).isEqualTo(1);
        client.request(CMD_READ, 0, 2, 4096 - 16, 32);
        assertThat(client.reply()).isEqualTo(new Reply(0, 2));
        byte[] expected = new byte[32];
        java.util.Arrays.fill(expected, 16, 32, (byte) 0xab);
        assertThat(client.readN(32).array()).isEqualTo(expected);
    }

    @Test
    void outOfRangeWriteIsInvalidWritesNothingAndKeepsTheStreamInSync() throws IOException {
        goTo("disk");
        client.request(CMD_WRITE, 0, 1, SIZE - 256, 512);
        client.send(filled(512, 0xcd));
        client.request(CMD_WRITE, 0, 2, -4096L, 8); // offset 2^64-4096
        client.send(filled(8, 0xcd));
        client.request(CMD_READ, 0, 3, SIZE - 256, 256);
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 1));
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 2));
        assertThat(client.reply()).isEqualTo(new Reply(0, 3));
        assertThat(client.readN(256).array()).isEqualTo(new byte[256]);
        assertThat(disk.writes.get()).isZero();
    }

    @Test
    void oversizeReadIsInvalidAndUnknownCommandIsInvalid() throws IOException {
        goTo("disk");
        client.request(CMD_READ, 0, 1, 0, MAX_PAYLOAD + 1L);
        client.request(5, 0, 2, 0, 512); // NBD_CMD_CACHE, not advertised
        client.request(99, 0, 3, 0, 0);
        client.request(CMD_READ, 0, 4, SIZE, 1);
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 1));
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 2));
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 3));
        assertThat(client.reply()).isEqualTo(new Reply(EINVAL, 4));
    }

    @Test
    void oversizeWriteClosesWithoutReadingThePayload() throws IOException {
        goTo("disk");
        client.request(CMD_WRITE, 0, 1, 0, MAX_PAYLOAD + 1L);
        assertThat(client.closedByServer()).isTrue();
        assertThat(disk.writes.get()).isZero();
    }

    @Test
    void badRequestMagicClosesTheConnection() throws IOException {
        goTo("disk");
        client.send(new byte[REQUEST_SIZE]);
        assertThat(client.closedByServer()).isTrue();
    }

    @Test
    void clientVanishingMidPayloadWritesNothingAndOthersAreStillServed() throws IOException {
        goTo("disk");
        client.request(CMD_WRITE, 0, 1, 0, 64 * 1024);
        client.send(filled(1000, 0xee));
        client.close();
        await().until(() -> server.connectionCount() == 0);
        assertThat(disk.writes.get()).isZero();
        assertThat(disk.bytes(0, 1000)).isEqualTo(new byte[1000]);

        try (RawNbdClient other = new RawNbdClient(server.port())) {
            other.greet(FIXED_NO_ZEROES);
            other.go("disk");
            other.request(CMD_READ, 0, 9, 0, 8);
            assertThat(other.reply()).isEqualTo(new Reply(0, 9));
        }
    }

    @Test
    void readOnlyExportRefusesWritesWithEpermButServesReads() throws IOException {
        goTo("ro");
        client.request(CMD_WRITE, 0, 1, 0, 4096);
        client.send(filled(4096, 0x11));
        client.request(CMD_WRITE_ZEROES, 0, 2, 0, 4096);
        client.request(CMD_TRIM, 0, 3, 0, 4096);
        client.request(CMD_READ, 0, 4, 0, 4);
        assertThat(client.reply()).isEqualTo(new Reply(EPERM, 1));
        assertThat(client.reply()).isEqualTo(new Reply(EPERM, 2));
        assertThat(client.reply()).isEqualTo(new Reply(EPERM, 3));
        assertThat(client.reply()).isEqualTo(new Reply(0, 4));
        assertThat(client.readN(4).array()).isEqualTo(new byte[4]);
        assertThat(ro.writes.get()).isZero();
    }

    @Test
    void backendFailuresMapToEioAndRangeRefusalsToEinval() throws IOException {
        goTo("disk");
        disk.failNext(new java.io.UncheckedIOException(new IOException("disk on fire")));
        client.request(CMD_FLUSH, 0, 1, 0, 0);
        assertThat(client.reply()).isEqualTo(new Reply(EIO, 1));
        disk.failNext(MemoryExport.invalid());
        client.request(CMD_READ, 0, 2, 0, 512);
        assertThat(client.reply()).as("no data follows an error reply").isEqualTo(new Reply(EINVAL, 2));
        client.request(CMD_READ, 0, 3, 0, 4);
        assertThat(client.reply()).isEqualTo(new Reply(0, 3));
        assertThat(client.readN(4).array()).isEqualTo(new byte[4]);
    }

    @Test
    void severalWritesStayInFlightAndAreAnsweredInCompletionOrder() throws IOException {
        goTo("disk");
        disk.holdWrites();
        for (int i = 0; i < 3; i++) {
            client.request(CMD_WRITE, 0, 100 + i, i * 4096L, 4096);
            client.send(filled(4096, i + 1));
        }
        await().until(() -> disk.parkedWrites() == 3);
        disk.releaseWrite(2);
        assertThat(client.reply()).isEqualTo(new Reply(0, 102));
        disk.releaseWrite(0);
        disk.releaseWrite(1);
        assertThat(Set.of(client.reply(), client.reply())).containsExactlyInAnyOrder(new Reply(0, 100), new Reply(0, 101));
        assertThat(disk.bytes(8192, 4096)).isEqualTo(filled(4096, 3));
    }

    @Test
    void disconnectWaitsForRequestsInFlightThenCloses() throws IOException {
        goTo("disk");
        disk.holdWrites();
        client.request(CMD_WRITE, 0, 1, 0, 512);
        client.send(filled(512, 7));
        client.request(CMD_DISC, 0, 2, 0, 0);
        await().until(() -> disk.parkedWrites() == 1);
        disk.releaseWrite(0);
        assertThat(client.reply()).isEqualTo(new Reply(0, 1));
        assertThat(client.closedByServer()).isTrue();
    }

    @Test
    void serverCloseEndsOpenConnections() throws IOException {
        goTo("disk");
        server.close();
        assertThat(client.closedByServer()).isTrue();
        assertThat(server.connectionCount()).isZero();
    }
}
