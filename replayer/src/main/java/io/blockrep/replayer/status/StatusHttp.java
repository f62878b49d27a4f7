package io.blockrep.replayer.status;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.blockrep.common.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Interactive query of the status store over HTTP: {@code GET /v1/status} (a JSON array of every
 * volume this instance holds) and {@code GET /v1/status/{volume}} (one {@link VolumeStatus}; 404 when
 * unknown). 503 while the store is not queryable (starting, rebalancing). With several instances of
 * one application each answers for the partitions it holds; the status topic has them all.
 *
 * <p>Threads: one request thread of its own; the store is read-only and safe to query from it.
 */
final class StatusHttp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusHttp.class);
    private static final String PATH = "/v1/status";

    private final HttpServer server;
    private final ExecutorService executor;
    private final Supplier<ReadOnlyKeyValueStore<String, VolumeStatus>> store;

    private StatusHttp(HttpServer server, Supplier<ReadOnlyKeyValueStore<String, VolumeStatus>> store) {
        this.server = server;
        this.store = store;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "status-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    static StatusHttp start(HostPort listen, Supplier<ReadOnlyKeyValueStore<String, VolumeStatus>> store) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
            StatusHttp http = new StatusHttp(server, store);
            server.start();
            LOG.info("status app: interactive query on http://{}{}", http.address(), PATH);
            return http;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listen + " for the status query: " + e.getMessage(), e);
        }
    }

    HostPort address() {
        InetSocketAddress a = server.getAddress();
        return new HostPort(a.getHostString(), a.getPort());
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            if (!exchange.getRequestMethod().equals("GET")) {
                reply(exchange, 405, error("only GET"));
            } else if (path.equals(PATH) || path.equals(PATH + "/")) {
                reply(exchange, 200, all());
            } else if (path.startsWith(PATH + "/") && path.indexOf('/', PATH.length() + 1) < 0) {
                String volume = path.substring(PATH.length() + 1);
                VolumeStatus s = store.get().get(volume);
                reply(exchange, s == null ? 404 : 200, s == null ? error("no status for volume '" + volume + "'") : StatusJson.write(s));
            } else {
                reply(exchange, 404, error("unknown path " + path + "; try " + PATH));
            }
        } catch (InvalidStateStoreException e) {
            reply(exchange, 503, error("the status store is not ready (" + e.getMessage() + "); try again"));
        } catch (RuntimeException e) {
            LOG.warn("status query {} failed: {}", exchange.getRequestURI(), e.toString());
            reply(exchange, 500, error(e.toString()));
        } finally {
            exchange.close(); // after the catch clauses' replies (a try-with-resources would close before them)
        }
    }

    private byte[] all() {
        ArrayNode array = StatusJson.MAPPER.createArrayNode();
        try (KeyValueIterator<String, VolumeStatus> it = store.get().all()) {
            it.forEachRemaining(kv -> array.add(StatusJson.MAPPER.valueToTree(kv.value)));
        }
        return array.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] error(String message) {
        return StatusJson.MAPPER.createObjectNode().put("error", message).toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void reply(HttpExchange exchange, int code, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
