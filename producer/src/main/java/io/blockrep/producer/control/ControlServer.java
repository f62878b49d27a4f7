package io.blockrep.producer.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.blockrep.common.BlockrepException;
import io.blockrep.common.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The facility's HTTP control API (JSON), bound to 127.0.0.1 unless configured otherwise.
 *
 * <pre>
 * GET  /v1/status         FacilityStatus
 * POST /v1/link/cut       drop the replication link and stop reconnecting
 * POST /v1/link/restore   reconnect
 * POST /v1/volumes/{id}/approve            start the resync of a volume in AWAITING_APPROVAL
 * POST /v1/volumes/{id}/replayed           body {"eras":[{"era":N,"regions":C,"copied":B},...]}: the replayer copied these eras,
 *                                          C from each era's closed marker; 409 (nothing dropped) unless they match
 * POST /v1/volumes/{id}/dirty              body {"regions":[...]}: regions that differ from the replica
 * POST /v1/volumes/{id}/progress           body: the replayer's progress (era, bytesDone, bytesTotal, ...)
 * </pre>
 *
 * Four request threads; handlers are quick and thread-safe.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VOLUME_ACTION = Pattern.compile("/v1/volumes/([a-z0-9][a-z0-9-]{0,62})/(approve|replayed|dirty|progress|promote|demote|regions|data|merge|discard|adopt)");
    private static final Pattern DATA_QUERY = Pattern.compile("offset=(\\d{1,18})&length=(\\d{1,9})");
    private static final Pattern ADOPT_QUERY = Pattern.compile("generation=([0-9a-f]{16})&node=([a-z0-9][a-z0-9-]{0,62})");
    private static final Pattern COMMON_QUERY = Pattern.compile("generation=([0-9a-f]{16})");
    private static final Pattern FORCE_QUERY = Pattern.compile("(force=(true|false))?");
    /** Most eras one replay report may name. */
    static final int MAX_REPORTED_ERAS = 10_000;

    /** Most bytes one {@code GET .../data} returns. */
    public static final int MAX_DATA_READ = 32 << 20;

    private final HttpServer server;
    private final ExecutorService executor;

    private ControlServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * The JDK server writes a response's headers and body in two segments; with Nagle's algorithm on,
     * the body waits for the client's delayed ACK of the headers (40 ms on Linux). A cutover holds
     * writes until the replayer's {@code replayed} call returns, so the socket must not wait.
     */
    static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

    public static ControlServer start(HostPort listen, ControlHandler handler) throws IOException {
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true"); // read once, when the first server is made
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 16);
        // Several threads: a replayer's 'replayed' call (a cutover holds writes until it is answered) must not
        // queue behind status polls or progress reports. The handler is thread-safe.
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "control-api");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> dispatch(exchange, handler));
        server.start();
        LOG.info("control API listening on {}:{}", listen.host(), server.getAddress().getPort());
        return new ControlServer(server, executor);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void dispatch(HttpExchange ex, ControlHandler handler) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                switch (path) {
                    case "/v1/status" -> {
                        if (requireMethod(ex, method, "GET")) {
                            reply(ex, 200, handler.status());
                        }
                    }
                    case "/v1/link/cut" -> {
                        if (requireMethod(ex, method, "POST")) {
                            handler.cutLink();
                            reply(ex, 200, Map.of("link", "cut"));
                        }
                    }
                    case "/v1/link/restore" -> {
                        if (requireMethod(ex, method, "POST")) {
                            handler.restoreLink();
                            reply(ex, 200, Map.of("link", "restoring"));
                        }
                    }
                    default -> volumeEndpoint(ex, method, path, handler);
                }
            } catch (BlockrepException e) {
                reply(ex, 409, Map.of("error", e.getMessage()));
            } catch (RuntimeException e) {
                LOG.warn("control API {} {} failed", method, path, e);
                reply(ex, 500, Map.of("error", e.toString()));
            }
        }
    }

    private static void volumeEndpoint(HttpExchange ex, String method, String path, ControlHandler handler) throws IOException {
        Matcher m = VOLUME_ACTION.matcher(path);
        if (!m.matches()) {
            reply(ex, 404, Map.of("error", "no such endpoint: " + path));
            return;
        }
        String volume = m.group(1);
        String action = m.group(2);
        String query = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery();
        if (action.equals("regions") || action.equals("data")) {
            if (requireMethod(ex, method, "GET")) {
                readEndpoint(ex, action, volume, query, handler);
            }
            return;
        }
        if (!requireMethod(ex, method, "POST")) {
            return;
        }
        if (action.equals("merge")) {
            List<long[]> runs;
            try {
                runs = runs(JSON.readTree(ex.getRequestBody().readNBytes(64 << 20)));
            } catch (IOException | IllegalArgumentException e) {
                reply(ex, 400, Map.of("error", "body must be {\"runs\":[[first,last],...]} of region numbers: " + e.getMessage()));
                return;
            }
            if (!query.isEmpty() && !query.equals("cause=full")) {
                reply(ex, 400, Map.of("error", "merge takes only ?cause=full"));
                return;
            }
            long marked = handler.mergeLoserRegions(volume, runs, query.equals("cause=full"));
            reply(ex, 200, Map.of("volume", volume, "newlyMarked", marked));
            return;
        }
        if (action.equals("adopt")) {
            Matcher adopt = ADOPT_QUERY.matcher(query);
            if (!adopt.matches()) {
                reply(ex, 400, Map.of("error", "adopt needs ?generation=<16 hex digits>&node=<the primary's node id>"));
                return;
            }
            long dropped = handler.adoptForFullCopy(volume, Long.parseUnsignedLong(adopt.group(1), 16), adopt.group(2));
            reply(ex, 200, Map.of("volume", volume, "droppedRecords", dropped));
            return;
        }
        if (action.equals("discard")) {
            Matcher common = COMMON_QUERY.matcher(query);
            if (!common.matches()) {
                reply(ex, 400, Map.of("error", "discard needs ?generation=<16 hex digits> (the newest generation both sides share)"));
                return;
            }
            long dropped = handler.discardOwnChanges(volume, Long.parseUnsignedLong(common.group(1), 16));
            reply(ex, 200, Map.of("volume", volume, "droppedRecords", dropped));
            return;
        }
        if (m.group(2).equals("approve")) {
            handler.approve(volume);
            reply(ex, 200, Map.of("volume", volume, "approved", true));
            return;
        }
        if (m.group(2).equals("promote") || m.group(2).equals("demote")) {
            Matcher force = FORCE_QUERY.matcher(query);
            if (!force.matches()) {
                reply(ex, 400, Map.of("error", m.group(2) + " takes only ?force=true|false"));
                return;
            }
            boolean forced = "true".equals(force.group(2));
            RoleChange change = m.group(2).equals("promote") ? handler.promote(volume, forced) : handler.demote(volume, forced);
            reply(ex, 200, change);
            return;
        }
        if (m.group(2).equals("progress")) {
            VolumeStatus.ReplayProgress progress;
            try {
                progress = JSON.readValue(ex.getRequestBody().readNBytes(1 << 16), VolumeStatus.ReplayProgress.class);
            } catch (IOException e) {
                reply(ex, 400, Map.of("error", "body must be a ReplayProgress JSON object: " + e.getMessage()));
                return;
            }
            handler.replayProgress(volume, progress);
            reply(ex, 200, Map.of("volume", volume));
            return;
        }
        if (m.group(2).equals("dirty")) {
            JsonNode body;
            try {
                body = JSON.readTree(ex.getRequestBody().readNBytes(64 << 20));
            } catch (IOException e) {
                reply(ex, 400, Map.of("error", "body must be JSON: {\"regions\":[...]}"));
                return;
            }
            List<Long> regions = new ArrayList<>();
            for (JsonNode r : body.path("regions")) {
                if (!r.canConvertToLong() || r.asLong() < 0) {
                    reply(ex, 400, Map.of("error", "regions must be non-negative integers, got " + r));
                    return;
                }
                regions.add(r.asLong());
            }
            long marked = handler.markDiffering(volume, regions);
            reply(ex, 200, Map.of("volume", volume, "regions", regions.size(), "newlyMarked", marked));
            return;
        }
        replayed(ex, volume, query, handler);
    }

    /** {@code POST .../replayed}: the body names each era and its marker's region count; the old {@code ?era=N} form is refused. */
    private static void replayed(HttpExchange ex, String volume, String query, ControlHandler handler) throws IOException {
        if (!query.isEmpty()) {
            reply(ex, 400, Map.of("error", "replayed takes no query (?era=N dropped eras by number alone); use the body form "
                    + REPLAY_REPORT_FORM));
            return;
        }
        ReplayBody report;
        try {
            report = replayReport(JSON.readTree(ex.getRequestBody().readNBytes(1 << 20)));
        } catch (IOException | IllegalArgumentException e) {
            reply(ex, 400, Map.of("error", "body must be " + REPLAY_REPORT_FORM + ": " + e.getMessage()));
            return;
        }
        handler.erasReplayed(volume, report.counts(), report.copied());
        reply(ex, 200, Map.of("volume", volume, "droppedEras", List.copyOf(report.counts().keySet())));
    }

    static final String REPLAY_REPORT_FORM = "{\"eras\":[{\"era\":N,\"regions\":C,\"copied\":B},...]} (C: the era-closed marker's "
            + "region count; B: the regions copied, a RoaringBitmap in its portable serialisation, base64)";

    /** A parsed replay report: per era, its marker's region count, and the regions the replayer copied. */
    record ReplayBody(SortedMap<Long, Long> counts, Map<Long, RoaringBitmap> copied) {
    }

    /**
     * {"eras":[{"era":N,"regions":C,"copied":"B"},...]}: at least one era, each once, N >= 1, C >= 0, B the
     * regions copied as a RoaringBitmap in its portable serialisation, base64.
     */
    static ReplayBody replayReport(JsonNode body) {
        JsonNode list = body == null ? null : body.get("eras");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("no eras, or not an array");
        }
        if (list.size() > MAX_REPORTED_ERAS) {
            throw new IllegalArgumentException(list.size() + " eras, more than " + MAX_REPORTED_ERAS);
        }
        SortedMap<Long, Long> report = new TreeMap<>();
        Map<Long, RoaringBitmap> copied = new HashMap<>();
        for (JsonNode e : list) {
            JsonNode era = e.get("era");
            JsonNode regions = e.get("regions");
            JsonNode regionsCopied = e.get("copied");
            if (era == null || regions == null || !era.isIntegralNumber() || !regions.isIntegralNumber() || !era.canConvertToLong()
                    || !regions.canConvertToLong() || era.asLong() < 1 || regions.asLong() < 0) {
                throw new IllegalArgumentException("bad entry " + e + " (era >= 1 and regions >= 0, both integers)");
            }
            if (regionsCopied == null || !regionsCopied.isTextual()) {
                throw new IllegalArgumentException("era " + era.asLong() + ": no \"copied\" (the regions copied, a base64 RoaringBitmap)");
            }
            if (report.put(era.asLong(), regions.asLong()) != null) {
                throw new IllegalArgumentException("era " + era.asLong() + " named twice");
            }
            copied.put(era.asLong(), regionSet(regionsCopied.asText(), era.asLong()));
        }
        return new ReplayBody(report, copied);
    }

    private static RoaringBitmap regionSet(String base64, long era) {
        try {
            RoaringBitmap set = new RoaringBitmap();
            set.deserialize(java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(base64)));
            return set;
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("era " + era + ": \"copied\" is not a base64 RoaringBitmap: " + e.getMessage());
        }
    }

    private static void readEndpoint(HttpExchange ex, String action, String volume, String query, ControlHandler handler)
            throws IOException {
        if (action.equals("regions")) {
            reply(ex, 200, handler.dirtyRegions(volume));
            return;
        }
        Matcher q = DATA_QUERY.matcher(query);
        if (!q.matches()) {
            reply(ex, 400, Map.of("error", "data needs ?offset=N&length=M"));
            return;
        }
        long offset = Long.parseLong(q.group(1));
        long length = Long.parseLong(q.group(2));
        if (length <= 0 || length > MAX_DATA_READ) {
            reply(ex, 400, Map.of("error", "length must be 1.." + MAX_DATA_READ));
            return;
        }
        byte[] bytes = handler.read(volume, offset, (int) length);
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** {"runs":[[first,last],...]} with 0 <= first <= last. */
    static List<long[]> runs(JsonNode body) {
        List<long[]> runs = new ArrayList<>();
        JsonNode list = body == null ? null : body.get("runs");
        if (list == null || !list.isArray()) {
            throw new IllegalArgumentException("no runs array");
        }
        for (JsonNode r : list) {
            if (!r.isArray() || r.size() != 2 || !r.get(0).canConvertToLong() || !r.get(1).canConvertToLong()
                    || r.get(0).asLong() < 0 || r.get(1).asLong() < r.get(0).asLong()) {
                throw new IllegalArgumentException("bad run " + r);
            }
            runs.add(new long[] {r.get(0).asLong(), r.get(1).asLong()});
        }
        return runs;
    }

    private static boolean requireMethod(HttpExchange ex, String method, String expected) throws IOException {
        if (!expected.equals(method)) {
            ex.getResponseHeaders().add("Allow", expected);
            reply(ex, 405, Map.of("error", "use " + expected));
            return false;
        }
        return true;
    }

    private static void reply(HttpExchange ex, int status, Object body) throws IOException {
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
