package io.blockrep.producer.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.blockrep.common.BlockrepException;
import io.blockrep.common.config.ControlTls;
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
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The facility's HTTP control API (JSON), bound to 127.0.0.1 unless configured otherwise; HTTPS with
 * required client certificates when {@code producer.control.tls.enabled}.
 *
 * <pre>
 * GET  /v1/status         FacilityStatus
 * POST /v1/link/cut       drop the replication link and stop reconnecting
 * POST /v1/link/restore   reconnect
 * POST /v1/volumes/{id}/approve            start the resync of a volume in AWAITING_APPROVAL
 * POST /v1/volumes/{id}/replayed           body {"eras":[{"era":N,"regions":C,"copied":B},...]}: the replayer copied these eras,
 *                                          C from each era's closed marker; 409 (nothing dropped) unless they match;
 *                                          with "partial":true a copy's progress: B recorded as on the replica, nothing dropped
 * POST /v1/volumes/{id}/dirty              body {"regions":[...]}: regions that differ from the replica
 * POST /v1/volumes/{id}/progress           body: the replayer's progress (era, bytesDone, bytesTotal, ...)
 * POST /v1/volumes/{id}/verified           body: a finished verify (finishedMillis, regionsChecked, regionsDiffering, ...)
 * </pre>
 *
 * Who may call what is {@link ControlAccess}'s to decide, before any endpoint runs: a bearer token
 * with the read or the admin role, and no request a web browser could send.
 *
 * <p>No client can hold a request thread that others need. The JDK server reads a request's headers
 * and body on the executor's threads with blocking reads, so: one thread per request in progress, up
 * to {@link #MAX_THREADS} (more are refused by closing their connection, never queued behind slow
 * ones); a whole request (headers and body) must arrive within {@link #REQUEST_DEADLINE} and an answer
 * be taken within {@link #RESPONSE_DEADLINE}, else the server closes the connection, which ends the
 * blocked read or write; each endpoint takes a body of bounded size, refused (413) from its
 * {@code Content-Length} before anything is read. The deadlines are the JDK's
 * {@code sun.net.httpserver.maxReqTime} / {@code maxRspTime} (seconds, read once per JVM when the first
 * server is made): set here unless given on the command line.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VOLUME_ACTION = Pattern.compile("/v1/volumes/([a-z0-9][a-z0-9-]{0,62})/(approve|replayed|dirty|progress|verified|promote|demote|regions|data|merge|discard|adopt)");
    private static final Pattern DATA_QUERY = Pattern.compile("offset=(\\d{1,18})&length=(\\d{1,9})");
    private static final Pattern ADOPT_QUERY = Pattern.compile("generation=([0-9a-f]{16})&node=([a-z0-9][a-z0-9-]{0,62})");
    private static final Pattern COMMON_QUERY = Pattern.compile("generation=([0-9a-f]{16})");
    private static final Pattern FORCE_QUERY = Pattern.compile("(force=(true|false))?");
    /** Most eras one replay report may name. */
    static final int MAX_REPORTED_ERAS = 10_000;

    /** Most bytes one {@code GET .../data} returns. */
    public static final int MAX_DATA_READ = 32 << 20;

    /** Most requests served at once; one more finds its connection closed. */
    static final int MAX_THREADS = 32;
    /** Most open connections (busy or idle keep-alive); more are closed at accept. */
    static final int MAX_CONNECTIONS = 64;
    /** Longest time from a request's first byte to the end of its body. */
    static final Duration REQUEST_DEADLINE = Duration.ofSeconds(10);
    /** Longest time from the end of a request to the end of its answer (up to 32 MiB for {@code .../data}). */
    static final Duration RESPONSE_DEADLINE = Duration.ofSeconds(60);
    private static final int SMALL_BODY = 64 << 10;

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

    /** A server open to every local caller (no token): for a loopback listen address only. */
    public static ControlServer start(HostPort listen, ControlHandler handler) throws IOException {
        return start(listen, ControlAccess.open(listen.host()), handler);
    }

    public static ControlServer start(HostPort listen, ControlAccess access, ControlHandler handler) throws IOException {
        return start(listen, access, null, handler);
    }

    /**
     * With {@code tls} (null = plain HTTP) the server speaks HTTPS only, TLS 1.3 or 1.2, and requires a client
     * certificate that {@code tls}'s trust managers accept (chains to a configured CA, within its validity):
     * a client without one, or with any other, fails the handshake before a request is read. A plaintext
     * request on the port fails the handshake as well. TLS authenticates the connection; {@code access} still
     * decides the role from the bearer token. The handshake runs on a request thread, under the same request
     * deadline as the headers.
     */
    public static ControlServer start(HostPort listen, ControlAccess access, SSLContext tls, ControlHandler handler)
            throws IOException {
        // All read once, when the first server of the JVM is made.
        setUnlessGiven(NODELAY_PROPERTY, "true");
        setUnlessGiven("sun.net.httpserver.maxReqTime", Long.toString(REQUEST_DEADLINE.toSeconds()));
        setUnlessGiven("sun.net.httpserver.maxRspTime", Long.toString(RESPONSE_DEADLINE.toSeconds()));
        setUnlessGiven("sun.net.httpserver.maxConnections", Integer.toString(MAX_CONNECTIONS));
        InetSocketAddress address = new InetSocketAddress(listen.host(), listen.port());
        HttpServer server;
        if (tls == null) {
            server = HttpServer.create(address, 16);
        } else {
            HttpsServer https = HttpsServer.create(address, 16);
            https.setHttpsConfigurator(new HttpsConfigurator(tls) {
                @Override
                public void configure(HttpsParameters params) {
                    params.setSSLParameters(ControlTls.parameters(getSSLContext(), true));
                }
            });
            server = https;
        }
        // One thread per request in progress: a replayer's 'replayed' call (a cutover holds writes until it is
        // answered) never queues behind status polls, progress reports or a slow client. Past MAX_THREADS the
        // executor refuses and the server closes that connection. The handler is thread-safe.
        ExecutorService executor = new ThreadPoolExecutor(4, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "control-api");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> dispatch(exchange, access, handler));
        server.start();
        LOG.info("control API listening on {}:{}{}", listen.host(), server.getAddress().getPort(),
                tls == null ? "" : " (HTTPS, client certificates required)");
        return new ControlServer(server, executor);
    }

    private static void setUnlessGiven(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void dispatch(HttpExchange ex, ControlAccess access, ControlHandler handler) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            ControlAccess.Refusal refused = access.check(ex, level(method, path));
            if (refused != null) {
                if (refused.status() == 401) {
                    ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"blockrep control API\"");
                }
                LOG.debug("control API refused {} {} from {}: {}", method, path, ex.getRemoteAddress(), refused.message());
                reply(ex, refused.status(), Map.of("error", refused.message()));
                return;
            }
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
            } catch (BodyTooLargeException e) {
                reply(ex, 413, Map.of("error", e.getMessage()));
            } catch (BlockrepException e) {
                reply(ex, 409, Map.of("error", e.getMessage()));
            } catch (RuntimeException e) {
                LOG.warn("control API {} {} failed", method, path, e);
                reply(ex, 500, Map.of("error", e.toString()));
            }
        }
    }

    /** READ for the status and dirty-region runs; ADMIN for everything else (state changes, volume bytes, unknown paths). */
    static ControlAccess.Level level(String method, String path) {
        return method.equals("GET") && (path.equals("/v1/status") || READ_ONLY.matcher(path).matches())
                ? ControlAccess.Level.READ : ControlAccess.Level.ADMIN;
    }

    private static final Pattern READ_ONLY = Pattern.compile("/v1/volumes/[a-z0-9][a-z0-9-]{0,62}/regions");

    /** A request body that is larger than its endpoint takes (HTTP 413). */
    static final class BodyTooLargeException extends RuntimeException {
        BodyTooLargeException(String message) {
            super(message);
        }
    }

    /**
     * The request body, at most {@code cap} bytes: a larger declared {@code Content-Length} is refused
     * before anything is read, a larger chunked body once {@code cap} is passed. The read blocks, but the
     * server's request deadline closes a connection whose body does not arrive in time.
     */
    static byte[] body(HttpExchange ex, int cap) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null && declared.strip().matches("\\d{1,18}") && Long.parseLong(declared.strip()) > cap) {
            throw new BodyTooLargeException("request body of " + declared.strip() + " bytes; " + ex.getRequestURI().getPath()
                    + " takes at most " + cap);
        }
        byte[] bytes = ex.getRequestBody().readNBytes(cap + 1);
        if (bytes.length > cap) {
            throw new BodyTooLargeException("request body larger than " + cap + " bytes");
        }
        return bytes;
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
                runs = runs(JSON.readTree(body(ex, 64 << 20)));
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
                progress = JSON.readValue(body(ex, SMALL_BODY), VolumeStatus.ReplayProgress.class);
            } catch (IOException e) {
                reply(ex, 400, Map.of("error", "body must be a ReplayProgress JSON object: " + e.getMessage()));
                return;
            }
            handler.replayProgress(volume, progress);
            reply(ex, 200, Map.of("volume", volume));
            return;
        }
        if (m.group(2).equals("verified")) {
            VolumeStatus.VerifyResult result;
            try {
                result = JSON.readValue(body(ex, SMALL_BODY), VolumeStatus.VerifyResult.class);
            } catch (IOException e) {
                reply(ex, 400, Map.of("error", "body must be a VerifyResult JSON object: " + e.getMessage()));
                return;
            }
            handler.verified(volume, result);
            reply(ex, 200, Map.of("volume", volume));
            return;
        }
        if (m.group(2).equals("dirty")) {
            JsonNode body;
            try {
                body = JSON.readTree(body(ex, 64 << 20));
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
        boolean partial;
        try {
            JsonNode body = JSON.readTree(body(ex, 1 << 20));
            report = replayReport(body);
            partial = body.path("partial").asBoolean(false);
        } catch (IOException | IllegalArgumentException e) {
            reply(ex, 400, Map.of("error", "body must be " + REPLAY_REPORT_FORM + ": " + e.getMessage()));
            return;
        }
        if (partial) {
            // A copy under way: the regions are recorded as on the replica, for the final report; nothing is dropped.
            handler.regionsCopied(volume, report.copied());
            reply(ex, 200, Map.of("volume", volume, "droppedEras", List.of()));
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
