package io.blockrep.replayer.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.config.ControlTls;
import io.blockrep.common.config.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import org.roaringbitmap.RoaringBitmap;

/**
 * A small client of a facility's control API (HTTP + JSON; see the README's "Control API"). Used by
 * the replayer to report replayed eras and by the CLI's ops verbs. Thread-safe.
 *
 * <p>Plain {@link HttpURLConnection} (kept-alive connections, no proxy), not {@code java.net.http}:
 * that client sets up the JVM's default TLS context (trust store, JCE) even for http URLs, about a
 * second of a short CLI verb's start on a busy host, and hands every call across its selector and
 * executor threads. Requests are sent in fixed-length streaming mode, so a POST is never silently
 * sent twice.
 *
 * <p>With TLS ({@link #withTls}) it speaks HTTPS: it presents the client certificate of its key store, and
 * the facility's certificate must chain to its trust store and name the host it was given (the JDK's
 * hostname verification, on). One {@link SSLSocketFactory} per distinct {@link ControlTls}, made once and
 * shared, so that its key stores are read once and connections are kept alive across clients.
 */
public final class FacilityClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MILLIS = 3_000;
    private static final int READ_TIMEOUT_MILLIS = 10_000;
    private final HostPort address;
    /** Sent as {@code Authorization: Bearer}; null = none. */
    private final String token;
    /** HTTPS with this factory's key material; null = plain HTTP. */
    private final SSLSocketFactory tls;
    private static final Map<ControlTls, SSLSocketFactory> TLS_FACTORIES = new ConcurrentHashMap<>();

    /** A client that sends no token (a facility on loopback with none configured). */
    public FacilityClient(HostPort address) {
        this(address, null);
    }

    public FacilityClient(HostPort address, String token) {
        this(address, token, null);
    }

    private FacilityClient(HostPort address, String token, SSLSocketFactory tls) {
        this.address = address;
        this.token = token;
        this.tls = tls;
    }

    /** The client of a configured node, with the token of its {@code control.token.file} (read now) and its TLS settings. */
    public static FacilityClient of(io.blockrep.replayer.ReplayerConfig.Node node) {
        return new FacilityClient(node.control(), node.controlTokenFile() == null ? null
                : io.blockrep.common.config.ControlToken.read("replayer.node." + node.id() + ".control.token.file",
                        node.controlTokenFile())).withTls(node.controlTls());
    }

    /** The same facility, with {@code token} instead (null: keep this client's). */
    public FacilityClient withToken(String token) {
        return token == null ? this : new FacilityClient(address, token, tls);
    }

    /**
     * The same facility over HTTPS with {@code settings}' key and trust stores (null: keep this client's). An
     * unusable store is an {@link io.blockrep.common.InvalidInputException} naming it.
     */
    public FacilityClient withTls(ControlTls settings) {
        if (settings == null) {
            return this;
        }
        return new FacilityClient(address, token, TLS_FACTORIES.computeIfAbsent(settings, s -> s.sslContext().getSocketFactory()));
    }

    /** True when this client speaks HTTPS. */
    public boolean tls() {
        return tls != null;
    }

    /** Parses a {@code --control} value, as a usage error when it is not host:port. */
    public static FacilityClient of(String text) {
        return of(text, null);
    }

    /** Parses a {@code --control} value; {@code token} (null = none) is sent with every request. */
    public static FacilityClient of(String text, String token) {
        try {
            return new FacilityClient(HostPort.parse(text), token);
        } catch (IllegalArgumentException e) {
            throw new io.blockrep.common.InvalidInputException("--control: " + e.getMessage());
        }
    }

    public HostPort address() {
        return address;
    }

    public JsonNode get(String path) {
        return send("GET", path, null);
    }

    public JsonNode post(String path) {
        return send("POST", path, new byte[0]);
    }

    /** Reports replay progress so that the facility's status shows it (best effort: failures are the caller's to ignore). */
    public void replayProgress(String volume, long era, long bytesDone, long bytesTotal, long regionsSkipped, long bytesPerSecond) {
        String body;
        try {
            body = JSON.writeValueAsString(java.util.Map.of("era", era, "bytesDone", bytesDone, "bytesTotal", bytesTotal,
                    "regionsSkipped", regionsSkipped, "bytesPerSecond", bytesPerSecond, "reportedMillis", System.currentTimeMillis()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        send("POST", "/v1/volumes/" + volume + "/progress", body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reports a finished verify ({@code POST .../verified}) so that the facility's status shows "last verified
     * at ..., N regions differed".
     */
    public void verified(String volume, long finishedMillis, long regionsChecked, long regionsDiffering, long durationMillis, String by) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(java.util.Map.of("finishedMillis", finishedMillis, "regionsChecked", regionsChecked,
                    "regionsDiffering", regionsDiffering, "durationMillis", durationMillis, "by", by));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        send("POST", "/v1/volumes/" + volume + "/verified", body);
    }

    /** Reports regions that differ from the replica; returns how many the facility newly marked dirty. */
    public long markDiffering(String volume, java.util.List<Long> regions) {
        String body;
        try {
            body = JSON.writeValueAsString(java.util.Map.of("regions", regions));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return send("POST", "/v1/volumes/" + volume + "/dirty", body.getBytes(StandardCharsets.UTF_8)).path("newlyMarked").asLong();
    }

    /** The status document of the facility. */
    public JsonNode status() {
        return get("/v1/status");
    }

    /** One volume's entry of the status document. */
    public JsonNode volumeStatus(String volume) {
        for (JsonNode v : status().path("volumes")) {
            if (v.path("volume").asText().equals(volume)) {
                return v;
            }
        }
        throw new io.blockrep.common.InvalidInputException("facility at " + address + " has no volume '" + volume + "'");
    }

    /** SECONDARY → PRIMARY (see {@code blockrep promote}); returns the facility's RoleChange document. */
    public JsonNode promote(String volume, boolean force) {
        return post("/v1/volumes/" + volume + "/promote?force=" + force);
    }

    /** PRIMARY → SECONDARY (see {@code blockrep demote}); returns the facility's RoleChange document. */
    public JsonNode demote(String volume, boolean force) {
        return post("/v1/volumes/" + volume + "/demote?force=" + force);
    }

    /** The volume's dirty regions on this facility, as runs (see the control API's {@code GET .../regions}). */
    public JsonNode dirtyRegions(String volume) {
        return get("/v1/volumes/" + volume + "/regions");
    }

    /** {@code length} bytes of the volume at {@code offset} (at most 32 MiB). */
    public byte[] read(String volume, long offset, int length) {
        Response r = exchange("GET", "/v1/volumes/" + volume + "/data?offset=" + offset + "&length=" + length, null);
        if (r.status() != 200 || r.body().length != length) {
            throw new FatalException(address + ": reading " + length + " bytes of '" + volume + "' at " + offset + " failed (HTTP "
                    + r.status() + "): " + new String(r.body(), StandardCharsets.UTF_8));
        }
        return r.body();
    }

    /** On a split brain's survivor: marks the loser's regions ({@code runsJson}: {"runs":[[first,last],...]}) dirty. */
    public JsonNode merge(String volume, String runsJson) {
        return send("POST", "/v1/volumes/" + volume + "/merge", runsJson.getBytes(StandardCharsets.UTF_8));
    }

    /** Marks every region of the volume dirty on the primary, for a full copy onto its peer. */
    public JsonNode markAllForFullCopy(String volume, long regionCount) {
        return send("POST", "/v1/volumes/" + volume + "/merge?cause=full",
                ("{\"runs\":[[0," + (regionCount - 1) + "]]}").getBytes(StandardCharsets.UTF_8));
    }

    /** On the SECONDARY of a full copy: drops its changes and takes the primary's current generation (16 hex digits). */
    public JsonNode adoptForFullCopy(String volume, String generation, String primaryNode) {
        return post("/v1/volumes/" + volume + "/adopt?generation=" + generation + "&node=" + primaryNode);
    }

    /** On a split brain's loser: drops its own changes and rewinds to {@code generation} (16 hex digits). */
    public JsonNode discard(String volume, String generation) {
        return post("/v1/volumes/" + volume + "/discard?generation=" + generation);
    }

    public void approve(String volume) {
        post("/v1/volumes/" + volume + "/approve");
    }

    /**
     * Tells the facility that every region of the named eras of {@code volume} was copied, each with
     * the region count of its era-closed marker and the regions copied of it ({@code POST .../replayed}, body
     * {@code {"eras":[{"era":N,"regions":C,"copied":B},...]}}, B a base64 RoaringBitmap). The facility drops
     * exactly those eras, or none: it refuses a report that does not cover every region it logged in them.
     *
     * @throws ReplayReportRefusedException when the facility refused the report (HTTP 409): an era is
     *         not pending there or its count differs from the era's bitmap; nothing was dropped
     */
    public void erasReplayed(String volume, SortedMap<Long, Long> regionCountByEra, Map<Long, RoaringBitmap> copied) {
        List<Map<String, Object>> eras = new ArrayList<>();
        regionCountByEra.forEach((era, regions) -> eras.add(Map.of("era", era, "regions", regions,
                "copied", base64(copied.getOrDefault(era, new RoaringBitmap())))));
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("eras", eras));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String path = "/v1/volumes/" + volume + "/replayed";
        Response r = exchange("POST", path, body);
        if (r.status() == 409) {
            throw new ReplayReportRefusedException(errorOf(r));
        }
        if (r.status() == 401 || r.status() == 403) {
            throw new FatalException(address + " refused POST " + path + " (HTTP " + r.status() + "): " + errorOf(r));
        }
        if (r.status() != 200) {
            throw new FatalException(address + ": POST " + path + " " + regionCountByEra + " failed (HTTP " + r.status() + "): "
                    + errorOf(r));
        }
    }

    /**
     * A copy's progress: {@code regions} of era {@code era} are on the replica (their data set was
     * acknowledged). The facility records them for the era's final report and drops nothing ({@code POST
     * .../replayed} with {@code "partial":true}), so a copy killed and started again need not copy them twice.
     */
    public void regionsCopied(String volume, long era, RoaringBitmap regions) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("partial", true,
                    "eras", List.of(Map.of("era", era, "regions", regions.getLongCardinality(), "copied", base64(regions)))));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String path = "/v1/volumes/" + volume + "/replayed";
        Response r = exchange("POST", path, body);
        if (r.status() != 200) {
            throw new RetriableException(address + ": POST " + path + " (partial, era " + era + ") failed (HTTP " + r.status() + "): "
                    + errorOf(r));
        }
    }

    /** A region set in RoaringBitmap's portable serialisation, base64: compact for runs of adjacent regions. */
    static String base64(RoaringBitmap regions) {
        RoaringBitmap r = regions.clone();
        r.runOptimize();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(r.serializedSizeInBytes());
        r.serialize(buf);
        return java.util.Base64.getEncoder().encodeToString(buf.array());
    }

    /** The facility refused a replay report (HTTP 409) and dropped nothing; the message is the facility's. */
    public static final class ReplayReportRefusedException extends io.blockrep.common.InvalidInputException {
        public ReplayReportRefusedException(String message) {
            super(message);
        }
    }

    /** The facility's open era and pending (closed, not yet dropped) eras of {@code volume}, from its status. */
    public FacilityEras eras(String volume) {
        JsonNode v = volumeStatus(volume);
        List<Long> pending = new ArrayList<>();
        v.path("pendingEras").forEach(e -> pending.add(e.asLong()));
        return new FacilityEras(v.path("era").asLong(), pending);
    }

    /** A facility's eras of one volume: {@code openEra} takes new regions; {@code pending} are closed and not dropped. */
    public record FacilityEras(long openEra, List<Long> pending) {
        public FacilityEras {
            pending = List.copyOf(pending);
        }

        /** True when {@code era} was closed and then dropped there (eras only go up): a report of it was applied already. */
        public boolean dropped(long era) {
            return era < openEra && !pending.contains(era);
        }
    }

    private static String errorOf(Response r) {
        try {
            return JSON.readTree(r.body()).path("error").asText("HTTP " + r.status());
        } catch (IOException e) {
            return new String(r.body(), StandardCharsets.UTF_8);
        }
    }

    private URI uri(String path) {
        return URI.create((tls == null ? "http://" : "https://") + address + path);
    }

    private Response exchange(String method, String path, byte[] body) {
        try {
            HttpURLConnection c = (HttpURLConnection) uri(path).toURL().openConnection(Proxy.NO_PROXY);
            c.setConnectTimeout(CONNECT_TIMEOUT_MILLIS);
            c.setReadTimeout(READ_TIMEOUT_MILLIS);
            c.setUseCaches(false);
            if (tls != null) {
                // The default hostname verifier stays: the facility's certificate must name the host we were given.
                ((HttpsURLConnection) c).setSSLSocketFactory(tls);
            }
            c.setRequestMethod(method);
            if (token != null) {
                c.setRequestProperty("Authorization", "Bearer " + token);
            }
            if (body != null) {
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(body.length);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body);
                }
            }
            int status = c.getResponseCode();
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                return new Response(status, in == null ? new byte[0] : in.readAllBytes());
            }
        } catch (SSLException e) {
            throw new RetriableException("TLS with the control API at " + address + " failed (is the client certificate one the"
                    + " facility trusts and still valid, does the facility's certificate chain to the trust store and name "
                    + address.host() + "?): " + e);
        } catch (InterruptedIOException e) {
            throw new RetriableException("no answer from the control API at " + address + " within the timeout: " + e);
        } catch (IOException e) {
            throw new RetriableException("cannot reach the control API at " + address + " (is the facility running?"
                    + (tls == null ? "" : " Over TLS a facility that does not accept this client's certificate (none, expired,"
                            + " from a CA it does not trust) closes the connection like this too; its log says why.")
                    + "): " + e);
        }
    }

    /** A status code and the raw body of an answer. */
    private record Response(int status, byte[] body) {
    }

    /** One request; {@code body} null for none (GET), else sent as JSON (possibly empty). */
    private JsonNode send(String method, String path, byte[] body) {
        Response r = exchange(method, path, body);
        int status = r.status();
        byte[] reply = r.body();
        JsonNode json;
        try {
            json = JSON.readTree(reply);
        } catch (IOException e) {
            throw new FatalException(address + " did not answer with JSON (HTTP " + status + ")");
        }
        if (status >= 400) {
            String message = json.path("error").asText("HTTP " + status);
            if (status == 409) {
                throw new io.blockrep.common.InvalidInputException(message);
            }
            if (status == 401 || status == 403) {
                throw new io.blockrep.common.InvalidInputException(address + " refused " + method + " " + path + " (HTTP " + status
                        + "): " + message);
            }
            throw new FatalException(address + ": " + message);
        }
        return json;
    }
}
