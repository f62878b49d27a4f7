package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.blockrep.producer.nbd.RawNbdClient.OptionReply;
import io.blockrep.producer.nbd.RawNbdClient.Reply;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.ExternalCommand.Result;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile and careless NBD clients against a real server on loopback (issue #13, reproductions 3
 * and 4): a client that stops reading replies, idle sockets that hold every connection slot, slow
 * handshakes and idle sessions. Each must be dropped on its deadline while honest clients, and the
 * shared threads that complete the export's I/O, keep going.
 */
class NbdSecurityIT {
    private static final int SIZE = 64 << 20;
    private static final int FIXED_NO_ZEROES = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);

    private final FlusherExport export = new FlusherExport("vol", SIZE);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-client");
        t.setDaemon(true);
        return t;
    });
    private NbdServer server;

    private NbdServer start(NbdServer.Config config) throws IOException {
        server = new NbdServer(config);
        server.start();
        return server;
    }

    private NbdServer.Config config() {
        return NbdServer.Config.of(NbdExportRegistry.of(export)).withLimits(new NbdServer.Limits(
                NbdServer.Limits.DEFAULT_MAX_CONNECTIONS, HANDSHAKE_TIMEOUT, NbdServer.Limits.DEFAULT.idleTimeout(), REPLY_TIMEOUT));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
        threads.shutdownNow();
        export.close();
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closeables.add(c);
        return c;
    }

    /** One 4 KiB WRITE and its reply, which must arrive within a second. */
    private void writeOnce(RawNbdClient client, long cookie) throws Exception {
        Future<Reply> reply = threads.submit(() -> {
            client.request(CMD_WRITE, 0, cookie, (cookie % 1024) * 4096, 4096);
            client.send(new byte[4096]);
            return client.reply();
        });
        Reply r = reply.get(1, TimeUnit.SECONDS);
        assertThat(r.error()).isZero();
        assertThat(r.cookie()).isEqualTo(cookie);
    }

    @Test
    void aClientThatStopsReadingRepliesIsDroppedWithoutStallingOthersOrTheFlusher() throws Exception {
        start(config());
        RawNbdClient bad = closeLater(new RawNbdClient(server.port(), 4096));
        bad.greet(FIXED_NO_ZEROES);
        bad.go("vol");
        AtomicLong sent = new AtomicLong();
        threads.submit(() -> {
            try {
                for (long cookie = 0; ; cookie++) {
                    bad.request(CMD_WRITE_ZEROES, 0, cookie, (cookie % 1024) * 4096, 4096);
                    sent.incrementAndGet();
                }
            } catch (IOException e) {
                return null; // dropped by the server, as it should be
            }
        });
        // The flood has filled every buffer between it and the server once its sends stop advancing.
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
            long now = sent.get();
            boolean stalled = now == last[0];
            last[0] = now;
            return stalled;
        });
        long stalledAt = System.nanoTime();

        RawNbdClient good = closeLater(new RawNbdClient(server.port()));
        good.greet(FIXED_NO_ZEROES);
        good.go("vol");
        long cookie = 0;
        while (System.nanoTime() - stalledAt < REPLY_TIMEOUT.plusSeconds(2).toNanos()) {
            writeOnce(good, cookie++);
        }
        assertThat(export.longestCompletionMillis()).as("longest time the flusher spent completing one operation").isLessThan(500);
        await().atMost(REPLY_TIMEOUT.plusSeconds(3)).until(() -> server.connectionCount() == 1);
        assertThat(bad.closedByServerAfterDraining()).isTrue();
        writeOnce(good, cookie);
        assertThat(export.longestCompletionMillis()).isLessThan(500);
    }

    @Test
    void idleSocketsHoldingEverySlotAreDroppedAtTheHandshakeDeadlineAndRefusedClientsAreToldWhy() throws Exception {
        start(config());
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger serverLog = (Logger) LoggerFactory.getLogger(NbdServer.class);
        serverLog.addAppender(logs);
        closeables.add(() -> serverLog.detachAppender(logs));

        for (int i = 0; i < NbdServer.Config.DEFAULT_MAX_CONNECTIONS; i++) {
            closeLater(SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port())));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == NbdServer.Config.DEFAULT_MAX_CONNECTIONS);

        for (int i = 0; i < 5; i++) {
            try (RawNbdClient refused = new RawNbdClient(server.port())) {
                refused.greet(FIXED_NO_ZEROES);
                refused.option(OPT_GO, RawNbdClient.infoData("vol"));
                OptionReply reply = refused.optionReply();
                assertThat(reply.type()).isEqualTo(REP_ERR_POLICY);
                assertThat(StandardCharsets.UTF_8.decode(reply.data()).toString()).contains("too many connections");
            }
        }
        assertThat(logs.list.stream().filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("refused")))
                .as("one WARN per interval, not one per refused connection").hasSize(1);

        await().atMost(HANDSHAKE_TIMEOUT.plusSeconds(5)).until(() -> server.connectionCount() == 0);
        ExternalCommand.requireTool("nbdinfo", "libnbd-bin");
        Result info = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", "nbd://127.0.0.1:" + server.port() + "/vol");
        assertThat(info.exitCode()).as(info.describe()).isZero();
        assertThat(info.stdout().trim()).isEqualTo(String.valueOf(SIZE));
    }

    @Test
    void aClientThatStallsInOptionHagglingIsDroppedAtTheHandshakeDeadline() throws Exception {
        start(config());
        try (RawNbdClient slow = new RawNbdClient(server.port())) {
            long started = System.nanoTime();
            slow.greet(FIXED_NO_ZEROES);
            // An NBD_OPT_GO header announcing 100 bytes of data, and only 10 of them.
            slow.send(ByteBuffer.allocate(OPTION_HEADER_SIZE + 10).putLong(IHAVEOPT).putInt(OPT_GO).putInt(100).flip());
            assertThat(slow.closedByServer()).isTrue();
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(elapsedMillis).isBetween(HANDSHAKE_TIMEOUT.toMillis() - 100, HANDSHAKE_TIMEOUT.toMillis() + 3000);
        }
        try (RawNbdClient honest = new RawNbdClient(server.port())) {
            honest.greet(FIXED_NO_ZEROES);
            assertThat(honest.go("vol")).isEqualTo(SIZE);
        }
    }

    @Test
    void anIdleSessionIsClosedAfterTheIdleTimeoutButNotWhileARequestIsInFlight() throws Exception {
        MemoryExport held = new MemoryExport("held", 1 << 20, false);
        held.holdWrites();
        Duration idle = Duration.ofSeconds(1);
        start(NbdServer.Config.of(NbdExportRegistry.of(held)).withLimits(new NbdServer.Limits(
                NbdServer.Limits.DEFAULT_MAX_CONNECTIONS, HANDSHAKE_TIMEOUT, idle, REPLY_TIMEOUT)));
        RawNbdClient busy = closeLater(new RawNbdClient(server.port()));
        busy.greet(FIXED_NO_ZEROES);
        busy.go("held");
        busy.request(CMD_WRITE, 0, 7, 0, 4096);
        busy.send(new byte[4096]);
        await().atMost(Duration.ofSeconds(5)).until(() -> held.parkedWrites() == 1);
        RawNbdClient quiet = closeLater(new RawNbdClient(server.port()));
        quiet.greet(FIXED_NO_ZEROES);
        quiet.go("held");

        long started = System.nanoTime();
        assertThat(quiet.closedByServer()).isTrue();
        assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThanOrEqualTo(idle.toMillis() - 100);
        assertThat(server.connectionCount()).as("the session with a write in flight is not idle").isEqualTo(1);

        held.releaseWrite(0);
        Reply r = busy.reply();
        assertThat(r.error()).isZero();
        assertThat(r.cookie()).isEqualTo(7);
        await().atMost(idle.plusSeconds(3)).until(() -> server.connectionCount() == 0);
    }
}
