package io.blockrep.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.blockrep.schemas.DirtyRegion;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's requests and its error messages, against the JDK's HTTP server answering as a registry would. */
class SchemaRegistryClientTest {
    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile String body = "{}";

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange ex) throws IOException {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        requests.add(ex.getRequestMethod() + " " + ex.getRequestURI() + (auth == null ? "" : " " + auth) + " "
                + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/apis/ccompat/v7";
    }

    private SchemaRegistryClient client() {
        return new SchemaRegistryClient(SchemaRegistrySettings.builder(url()).basicAuth("alice", "s3cret").build());
    }

    @Test
    void registersWithBasicAuthAndCachesTheId() {
        body = "{\"id\":7}";
        SchemaRegistryClient c = client();
        assertThat(c.register("blockrep.dirty-value", DirtyRegion.getClassSchema())).isEqualTo(7);
        assertThat(c.register("blockrep.dirty-value", DirtyRegion.getClassSchema())).isEqualTo(7);
        assertThat(requests).hasSize(1);
        assertThat(requests.get(0)).startsWith("POST /apis/ccompat/v7/subjects/blockrep.dirty-value/versions Basic YWxpY2U6czNjcmV0 {\"schema\":");
        assertThat(c.schemaById(7)).as("a schema it registered is known by id without asking").isEqualTo(DirtyRegion.getClassSchema());
        assertThat(requests).hasSize(1);
    }

    @Test
    void looksSchemasUpByIdOnce() {
        body = "{\"schema\":\"\\\"string\\\"\"}";
        SchemaRegistryClient c = client();
        assertThat(c.schemaById(3).getType()).isEqualTo(org.apache.avro.Schema.Type.STRING);
        assertThat(c.schemaById(3).getType()).isEqualTo(org.apache.avro.Schema.Type.STRING);
        assertThat(requests).hasSize(1);
        assertThat(requests.get(0)).startsWith("GET /apis/ccompat/v7/schemas/ids/3");
    }

    @Test
    void refusedCredentialsSayWhatToCheck() {
        status = 401;
        body = "";
        assertThatThrownBy(() -> client().register("s", DirtyRegion.getClassSchema())).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> {
                    assertThat(e.isAuthFailure()).isTrue();
                    assertThat(e.getMessage()).contains(url()).contains("HTTP 401").contains("credentials missing or refused")
                            .contains("registering a schema under subject 's'");
                });
        status = 403;
        assertThatThrownBy(() -> client().schemaById(1)).isInstanceOf(SchemaRegistryException.class).hasMessageContaining("HTTP 403")
                .hasMessageContaining("not allowed");
    }

    @Test
    void incompatibleInvalidAndNotFoundCarryTheRegistrysMessage() {
        status = 409;
        body = "{\"message\":\"Incompatible artifact: s [AVRO], list of diff types: [b at /fields/1]\",\"error_code\":409}";
        assertThatThrownBy(() -> client().register("s", DirtyRegion.getClassSchema())).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.isIncompatible()).isTrue()).hasMessageContaining("incompatible with the subject's compatibility rule")
                .hasMessageContaining("[b at /fields/1]");
        status = 422;
        body = "{\"message\":\"Failed to discover artifact type from content.\",\"error_code\":42201}";
        assertThatThrownBy(() -> client().register("s", DirtyRegion.getClassSchema())).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.errorCode()).isEqualTo(42201)).hasMessageContaining("invalid schema").hasMessageContaining("discover artifact type");
        status = 404;
        body = "{\"message\":\"Schema 99 not found.\",\"error_code\":40403}";
        assertThatThrownBy(() -> client().schemaById(99)).isInstanceOfSatisfying(SchemaRegistryException.class,
                e -> assertThat(e.isNotFound()).isTrue()).hasMessageContaining("Schema 99 not found.");
        body = "{\"message\":\"Subject 's' not found.\",\"error_code\":40401}";
        assertThat(client().lookUp("s", DirtyRegion.getClassSchema())).isEmpty();
        assertThat(client().isCompatible("s", DirtyRegion.getClassSchema())).as("nothing to be incompatible with").isTrue();
    }

    @Test
    void serverErrorsAndAnUnreachableRegistryAreRetriable() throws IOException {
        status = 503;
        body = "<html>busy</html>";
        assertThatThrownBy(() -> client().schemaById(1)).isInstanceOf(SchemaRegistryUnavailableException.class).hasMessageContaining("HTTP 503")
                .hasMessageContaining("busy");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String down = "http://127.0.0.1:" + closed + "/apis/ccompat/v7";
        SchemaRegistryClient c = new SchemaRegistryClient(SchemaRegistrySettings.builder(down).connectTimeout(Duration.ofSeconds(2)).build());
        assertThatThrownBy(() -> c.register("s", DirtyRegion.getClassSchema())).isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining(down).hasMessageContaining("unreachable").hasMessageContaining("ConnectException");
    }

    @Test
    void readsAndSetsCompatibility() {
        body = "{\"compatibilityLevel\":\"BACKWARD\"}";
        assertThat(client().compatibility("s")).isEqualTo(Compatibility.BACKWARD);
        body = "{\"compatibility\":\"BACKWARD\"}";
        client().setCompatibility("s", Compatibility.BACKWARD);
        assertThat(requests.get(0)).startsWith("GET /apis/ccompat/v7/config/s?defaultToGlobal=true");
        assertThat(requests.get(1)).startsWith("PUT /apis/ccompat/v7/config/s").endsWith("{\"compatibility\":\"BACKWARD\"}");
    }

    @Test
    void settingsRejectABadUrl() {
        assertThatThrownBy(() -> SchemaRegistrySettings.builder("localhost:8081")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http://HOST");
        assertThat(SchemaRegistrySettings.builder("http://r:8081/apis/ccompat/v7/").build().url().toString())
                .isEqualTo("http://r:8081/apis/ccompat/v7");
    }
}
