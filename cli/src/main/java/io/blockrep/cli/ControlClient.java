package io.blockrep.cli;

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

/** A small client of a facility's control API (see {@code producer.control.ControlServer}). */
final class ControlClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final HostPort address;

    ControlClient(HostPort address) {
        this.address = address;
    }

    /** Parses a {@code --control} value, as a usage error when it is not host:port. */
    static ControlClient of(String text) {
        try {
            return new ControlClient(HostPort.parse(text));
        } catch (IllegalArgumentException e) {
            throw new io.blockrep.common.InvalidInputException("--control: " + e.getMessage());
        }
    }

    JsonNode get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    JsonNode post(String path) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
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
