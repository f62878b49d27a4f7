package io.blockrep.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.blockrep.common.FatalException;
import io.blockrep.common.config.HostPort;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code GET /metrics} in the Prometheus text format (version 0.0.4) on a listener of its own, apart from
 * the control API: scraping needs no token and reveals no data, and a scraper can never hold a control thread.
 * Any other path answers 404, any other method 405.
 *
 * <p>Threads: one daemon thread answers, one scrape at a time (a scrape takes milliseconds). {@link #close} from
 * any thread.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code listen} (port 0 = a free one) and serves the registry's scrape. */
    public static MetricsServer start(HostPort listen, PrometheusMeterRegistry registry, String name) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
        } catch (IOException e) {
            throw new FatalException("cannot listen for metrics on " + listen + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-" + name);
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, registry));
        server.start();
        MetricsServer s = new MetricsServer(server, executor);
        LOG.info("metrics of {} at {}", name, s.url());
        return s;
    }

    private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/metrics")) {
                send(exchange, 404, "not found: metrics are at /metrics\n");
            } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "method not allowed\n");
            } else {
                exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
                send(exchange, 200, registry.scrape());
            }
        } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed", e);
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://HOST:PORT/metrics}. */
    public String url() {
        String host = server.getAddress().getHostString();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/metrics";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
