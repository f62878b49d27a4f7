package io.blockrep.replayer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.blockrep.common.config.HostPort;
import io.blockrep.replayer.copy.CopyProgress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {
    HttpServer server;
    final List<String> received = new CopyOnWriteArrayList<>();
    final CountDownLatch firstArrived = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(ex.getRequestURI().getPath() + " " + body.replaceAll(".*\"bytesDone\":(\\d+).*", "$1"));
            firstArrived.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] reply = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, reply.length);
            ex.getResponseBody().write(reply);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    @Test
    void reportsAreSentOffTheCallersThreadAndOnlyTheLatestWaitingOneIsKept() throws Exception {
        FacilityClient primary = new FacilityClient(HostPort.parse("127.0.0.1:" + server.getAddress().getPort()));
        try (ProgressReporter reporter = new ProgressReporter()) {
            reporter.report("vol", primary, progress(1));
            assertThat(firstArrived.await(10, TimeUnit.SECONDS)).isTrue();
            reporter.report("vol", primary, progress(2)); // returns at once although the facility has not answered
            reporter.report("vol", primary, progress(3));
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= 2);
            assertThat(received).containsExactly("/v1/volumes/vol/progress 1", "/v1/volumes/vol/progress 3");
        }
    }

    private static CopyProgress progress(long bytesDone) {
        return new CopyProgress("vol", 7, 10, bytesDone, 10, bytesDone, 0, 1_000_000);
    }

    /**
     * Issue #12, deliver 2: a send that threw an Error (not a RuntimeException) ended the reporter's thread,
     * and no report of any volume was sent again while the replayer lived on.
     */
    @Test
    void aSendThatThrowsAnErrorDoesNotEndTheReports() {
        List<Long> sent = new CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean failNext = new java.util.concurrent.atomic.AtomicBoolean(true);
        FacilityClient primary = new FacilityClient(HostPort.parse("127.0.0.1:9"));
        try (ProgressReporter reporter = new ProgressReporter((volume, to, p) -> {
            if (failNext.getAndSet(false)) {
                throw new AssertionError("a bug sending (injected)");
            }
            sent.add(p.bytesCopied());
        })) {
            reporter.report("vol", primary, progress(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> !failNext.get());
            reporter.report("vol", primary, progress(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> sent.contains(2L));
        }
    }
}
