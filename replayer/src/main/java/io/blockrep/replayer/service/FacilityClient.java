package io.blockrep.replayer.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.config.HostPort;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small client of a facility's control API (HTTP + JSON; see the README's "Control API"). Used by
 * the replayer to report replayed eras and by the CLI's ops verbs. Thread-safe.
 */
public final class FacilityClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final HostPort address;

    public FacilityClient(HostPort address) {
        this.address = address;
    }

    /** Parses a {@code --control} value, as a usage error when it is not host:port. */
    public static FacilityClient of(String text) {
        try {
            return new FacilityClient(HostPort.parse(text));
        } catch (IllegalArgumentException e) {
            throw new io.blockrep.common.InvalidInputException("--control: " + e.getMessage());
        }
    }

    public HostPort address() {
        return address;
    }

    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public JsonNode post(String path) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
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
        send(HttpRequest.newBuilder(uri("/v1/volumes/" + volume + "/progress")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** Reports regions that differ from the replica; returns how many the facility newly marked dirty. */
    public long markDiffering(String volume, java.util.List<Long> regions) {
        String body;
        try {
            body = JSON.writeValueAsString(java.util.Map.of("regions", regions));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return send(HttpRequest.newBuilder(uri("/v1/volumes/" + volume + "/dirty")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))).path("newlyMarked").asLong();
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
        HttpResponse<byte[]> response;
        try {
            response = http.send(HttpRequest.newBuilder(uri("/v1/volumes/" + volume + "/data?offset=" + offset + "&length=" + length))
                    .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new RetriableException("cannot reach the control API at " + address + " (is the facility running?): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted talking to " + address);
        }
        if (response.statusCode() != 200 || response.body().length != length) {
            String message = new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
            throw new FatalException(address + ": reading " + length + " bytes of '" + volume + "' at " + offset + " failed (HTTP "
                    + response.statusCode() + "): " + message);
        }
        return response.body();
    }

    /** On a split brain's survivor: marks the loser's regions ({@code runsJson}: {"runs":[[first,last],...]}) dirty. */
    public JsonNode merge(String volume, String runsJson) {
        return send(HttpRequest.newBuilder(uri("/v1/volumes/" + volume + "/merge")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(runsJson)));
    }

    /** Marks every region of the volume dirty on the primary, for a full copy onto its peer. */
    public JsonNode markAllForFullCopy(String volume, long regionCount) {
        return send(HttpRequest.newBuilder(uri("/v1/volumes/" + volume + "/merge?cause=full")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"runs\":[[0," + (regionCount - 1) + "]]}")));
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

    /** Tells the facility that every live region of {@code volume}'s eras up to {@code era} was copied. */
    public void erasReplayed(String volume, long era) {
        post("/v1/volumes/" + volume + "/replayed?era=" + era);
    }

    private URI uri(String path) {
        return URI.create("http://" + address + path);
    }

    private JsonNode send(HttpRequest.Builder request) {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RetriableException("cannot reach the control API at " + address + " (is the facility running?): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted talking to " + address);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new FatalException(address + " did not answer with JSON (HTTP " + response.statusCode() + ")");
        }
        if (response.statusCode() >= 400) {
            String message = body.path("error").asText("HTTP " + response.statusCode());
            if (response.statusCode() == 409) {
                throw new io.blockrep.common.InvalidInputException(message);
            }
            throw new FatalException(address + ": " + message);
        }
        return body;
    }
}
