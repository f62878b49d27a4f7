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
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.ExternalCommand.Result;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Hostile and careless NBD clients against a real server on loopback (issue #13, reproductions 3
 * and 4): a client that stops reading replies, idle sockets that hold every connection slot, slow
 * handshakes and idle sessions. Each must be dropped on its deadline while honest clients, and the
 * shared threads that complete the export's I/O, keep going. Then TLS (NBD_OPT_STARTTLS) with real
 * gnutls clients (nbdcopy, nbdinfo) and certificates made by openssl: plain-text, unlisted,
 * uncertified and foreign-CA clients refused, the allowed one served.
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
    @TempDir
    Path dir;

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
        // The client sees the close before the server has counted it gone: wait for the count, then the busy
        // session's reply below shows it was never closed.
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 1);

        held.releaseWrite(0);
        Reply r = busy.reply();
        assertThat(r.error()).isZero();
        assertThat(r.cookie()).isEqualTo(7);
        await().atMost(idle.plusSeconds(3)).until(() -> server.connectionCount() == 0);
    }

    private NbdTls tls(TestCertificates certs, boolean require, List<String> allowedClients) throws Exception {
        return NbdTls.load(new NbdTls.Settings(certs.serverKeystore(), TestCertificates.KEYSTORE_PASSWORD,
                allowedClients == null ? null : certs.caCert(), null, require, allowedClients == null ? List.of() : allowedClients));
    }

    private String nbds(String export, Path certificates) {
        return "nbds://127.0.0.1:" + server.port() + "/" + export + "?tls-certificates=" + certificates;
    }

    @Test
    void overStartTlsAClientWithAnAllowedCertificateCopiesDataIntactAndPlainTextClientsAreRefused() throws Exception {
        ExternalCommand.requireTool("nbdcopy", "libnbd-bin");
        TestCertificates certs = TestCertificates.create(dir.resolve("pki"), "test-ca");
        MemoryExport small = new MemoryExport("small", 8 << 20, false);
        start(NbdServer.Config.of(NbdExportRegistry.of(small, export)).withTls(tls(certs, true, List.of("client-1"))));
        Path client = certs.clientDir("client-1", certs);

        Path source = dir.resolve("source.img");
        byte[] random = new byte[8 << 20];
        new Random(13).nextBytes(random);
        Files.write(source, random);
        Result in = ExternalCommand.run(Duration.ofSeconds(120), "nbdcopy", source.toString(), nbds("small", client));
        assertThat(in.exitCode()).as(in.describe()).isZero();
        Path back = dir.resolve("back.img");
        Result out = ExternalCommand.run(Duration.ofSeconds(120), "nbdcopy", nbds("small", client), back.toString());
        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(Checksums.sha256(back)).isEqualTo(Checksums.sha256(source));

        try (RawNbdClient plain = new RawNbdClient(server.port())) {
            plain.greet(FIXED_NO_ZEROES);
            plain.option(OPT_GO, RawNbdClient.infoData("small"));
            OptionReply reply = plain.optionReply();
            assertThat(reply.type()).isEqualTo(REP_ERR_TLS_REQD);
            assertThat(StandardCharsets.UTF_8.decode(reply.data()).toString()).contains("TLS required");
        }
        Result plainInfo = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", "nbd://127.0.0.1:" + server.port() + "/small");
        assertThat(plainInfo.exitCode()).as(plainInfo.describe()).isNotZero();
    }

    @Test
    void overStartTlsUnlistedUncertifiedAndForeignClientsAreRefusedWhileTheHonestOneIsServed() throws Exception {
        ExternalCommand.requireTool("nbdinfo", "libnbd-bin");
        TestCertificates certs = TestCertificates.create(dir.resolve("pki"), "test-ca");
        TestCertificates foreign = TestCertificates.create(dir.resolve("foreign"), "foreign-ca");
        start(config().withTls(tls(certs, true, List.of("client-1"))));

        Path unlisted = certs.clientDir("intruder", certs);
        Path anonymous = certs.anonymousClientDir("anonymous");
        Path foreignSigned = Files.createDirectories(dir.resolve("foreign-signed"));
        Path foreignClient = foreign.clientDir("client-1", foreign);
        Files.copy(certs.caCert(), foreignSigned.resolve("ca-cert.pem"));
        Files.copy(foreignClient.resolve("client-cert.pem"), foreignSigned.resolve("client-cert.pem"));
        Files.copy(foreignClient.resolve("client-key.pem"), foreignSigned.resolve("client-key.pem"));
        Path wrongServerCa = foreign.anonymousClientDir("trusts-foreign-only");

        for (Path refused : List.of(unlisted, anonymous, foreignSigned, wrongServerCa)) {
            Result r = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", nbds("vol", refused));
            assertThat(r.exitCode()).as(refused + ": " + r.describe()).isNotZero();
        }
        Result honest = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", nbds("vol", certs.clientDir("client-1", certs)));
        assertThat(honest.exitCode()).as(honest.describe()).isZero();
        assertThat(honest.stdout().trim()).isEqualTo(String.valueOf(SIZE));
        await().atMost(Duration.ofSeconds(5)).until(() -> server.connectionCount() == 0);
    }

    @Test
    void withOptionalTlsPlainAndTlsClientsAreBothServed() throws Exception {
        ExternalCommand.requireTool("nbdinfo", "libnbd-bin");
        TestCertificates certs = TestCertificates.create(dir.resolve("pki"), "test-ca");
        start(config().withTls(tls(certs, false, null)));
        Result plain = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", "nbd://127.0.0.1:" + server.port() + "/vol");
        assertThat(plain.exitCode()).as(plain.describe()).isZero();
        Result secure = ExternalCommand.run(Duration.ofSeconds(60), "nbdinfo", "--size", nbds("vol", certs.anonymousClientDir("anon")));
        assertThat(secure.exitCode()).as(secure.describe()).isZero();
        assertThat(secure.stdout().trim()).isEqualTo(String.valueOf(SIZE));
    }
}
