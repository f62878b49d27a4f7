package io.blockrep.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a service gets its codecs: with a registry that is down at start (writers wait, readers need
 * nothing up front), with auto-registration off and a schema missing, and without a registry. Against
 * the JDK's HTTP server answering as a Confluent-API registry would (the real one: SchemaRegistryIT).
 */
class ValueCodecsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopicLayout TOPICS = TopicLayout.defaults();
    private static final DirtyRegion VALUE = new DirtyRegion(1_700_000_000_000L, 65_536, 1L << 30, DirtyCause.LOGGED_WRITE);

    private HttpServer server;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private void serveOn(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    /** Register (POST .../versions), look up (POST /subjects/S), by id (GET /schemas/ids/N), config (PUT). */
    private void answer(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath().replace("/apis/ccompat/v7", "");
        String in = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(ex.getRequestMethod() + " " + path);
        int status = 200;
        String out;
        if (path.startsWith("/config/")) {
            out = "{\"compatibility\":\"BACKWARD\"}";
        } else if (path.startsWith("/schemas/ids/")) {
            String s = schemas.get(Integer.parseInt(path.substring("/schemas/ids/".length())));
            status = s == null ? 404 : 200;
            out = s == null ? "{\"error_code\":40403,\"message\":\"Schema not found\"}" : JSON.createObjectNode().put("schema", s).toString();
        } else {
            String subject = path.substring("/subjects/".length()).replace("/versions", "");
            String schema = JSON.readTree(in).get("schema").asText();
            String key = subject + " " + schema;
            if (path.endsWith("/versions")) {
                int id = ids.computeIfAbsent(key, k -> ids.size() + 1);
                schemas.put(id, schema);
                out = "{\"id\":" + id + "}";
            } else if (ids.containsKey(key)) {
                out = "{\"subject\":\"" + subject + "\",\"version\":1,\"id\":" + ids.get(key) + "}";
            } else {
                status = 404;
                out = "{\"error_code\":40403,\"message\":\"Schema not found\"}";
            }
        }
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static SchemaRegistryClient client(int port) {
        return new SchemaRegistryClient(SchemaRegistrySettings.builder("http://127.0.0.1:" + port + "/apis/ccompat/v7")
                .connectTimeout(Duration.ofSeconds(2)).requestTimeout(Duration.ofSeconds(5)).build());
    }

    @Test
    void aRegistryDownAtStartDelaysTheWritersUntilItAnswers() throws IOException {
        int port = freePort();
        ValueCodecs codecs = ValueCodecs.withRegistry(client(port), TOPICS, true);

        assertThat(codecs.tryConnect()).isFalse();
        assertThat(codecs.writersIfReady()).isEmpty();
        assertThatThrownBy(codecs::writers).isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port).hasMessageContaining("unreachable");

        serveOn(port);
        byte[] encoded = codecs.writers().dirtyRegion().encode(VALUE);

        assertThat(encoded[0]).isEqualTo(ConfluentWireCodec.MAGIC);
        assertThat(ConfluentWireCodec.schemaIdOf(encoded)).isEqualTo(ids.get("blockrep.dirty-value " + DirtyRegion.getClassSchema()));
        assertThat(codecs.writersIfReady()).isPresent();
        assertThat(requests).contains("PUT /config/blockrep.dirty-value", "PUT /config/blockrep.events-value",
                "POST /subjects/blockrep.dirty-key/versions", "POST /subjects/blockrep.events-key/versions");
        // the readers read both formats, and resolve an id they have not seen through the registry
        assertThat(codecs.readers().dirtyRegion().decode(encoded)).isEqualTo(VALUE);
        assertThat(codecs.readers().dirtyRegion().decode(Codecs.DIRTY_REGION.encode(VALUE))).isEqualTo(VALUE);
    }

    @Test
    void readersNeedNoRegistrationAndCannotWrite() throws IOException {
        serveOn(0);
        SchemaRegistryClient writer = client(server.getAddress().getPort());
        byte[] encoded = ValueCodecs.withRegistry(writer, TOPICS, true).writers().dirtyRegion().encode(VALUE);
        requests.clear();

        RegistryCodecs readers = ValueCodecs.withRegistry(client(server.getAddress().getPort()), TOPICS, true).readers();

        assertThat(readers.dirtyRegion().decode(encoded)).isEqualTo(VALUE);
        assertThat(requests).containsExactly("GET /schemas/ids/" + ConfluentWireCodec.schemaIdOf(encoded));
        assertThatThrownBy(() -> readers.dirtyRegion().encode(VALUE)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anUnknownSchemaIdIsPoisonButAnUnreachableRegistryIsNot() throws IOException {
        serveOn(0);
        int port = server.getAddress().getPort();
        byte[] unknownId = {0, 0, 0, 0x7f, 0x7f, 2, 4};
        RegistryCodecs readers = ValueCodecs.withRegistry(client(port), TOPICS, true).readers();
        assertThatThrownBy(() -> readers.dirtyRegion().decode(unknownId)).isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining("schema id 32639").hasMessageContaining("not in the registry");

        server.stop(0);
        server = null;
        RegistryCodecs offline = ValueCodecs.withRegistry(client(port), TOPICS, true).readers();
        assertThatThrownBy(() -> offline.dirtyRegion().decode(unknownId)).isInstanceOf(SchemaRegistryUnavailableException.class);
    }

    @Test
    void withoutAutoRegistrationAMissingSchemaRefusesTheStartNamingSubjectAndUrl() throws IOException {
        serveOn(0);
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/apis/ccompat/v7";
        ValueCodecs codecs = ValueCodecs.withRegistry(client(server.getAddress().getPort()), TOPICS, false);

        assertThatThrownBy(codecs::tryConnect).isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.status()).isEqualTo(404))
                .hasMessageContaining(url).hasMessageContaining("'blockrep.dirty-value'").hasMessageContaining("auto-registration is off");
        assertThat(requests).noneMatch(r -> r.startsWith("PUT") || r.endsWith("/versions"));

        ValueCodecs.withRegistry(client(server.getAddress().getPort()), TOPICS, true).writers(); // an operator registers them
        assertThat(ValueCodecs.withRegistry(client(server.getAddress().getPort()), TOPICS, false).tryConnect()).isTrue();
    }

    @Test
    void withoutARegistryValuesAreSingleObjectAndConfluentOnesArePoison() {
        ValueCodecs codecs = ValueCodecs.of(RegistrySetup.NONE, TOPICS);
        byte[] encoded = codecs.writers().dirtyRegion().encode(VALUE);

        assertThat(encoded[0]).isEqualTo((byte) 0xC3);
        assertThat(codecs.readers().dirtyRegion().decode(encoded)).isEqualTo(VALUE);
        assertThatThrownBy(() -> codecs.readers().dirtyRegion().decode(new byte[] {0, 0, 0, 0, 1, 2}))
                .isInstanceOf(PoisonRecordException.class).hasMessageContaining("no schema registry is configured");
    }
}
