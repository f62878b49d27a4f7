package io.blockrep.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client for the Confluent schema registry REST API (v7; Apicurio serves it under
 * {@code /apis/ccompat/v7}), Avro schemas only: register a schema under a subject, look a schema up
 * by id, find the id of a schema already registered under a subject, check a schema against a
 * subject's latest version, and read or set a subject's compatibility rule.
 *
 * <p>Thread-safe. Every call blocks the caller for at most the request timeout (plus the connect
 * timeout); nothing runs in the background. Schemas by id and ids by (subject, schema) are cached
 * for the client's lifetime: in the registry both are immutable once assigned.
 *
 * <p>Failures: {@link SchemaRegistryUnavailableException} (retriable) when the registry cannot be
 * reached, times out, or answers 5xx; {@link SchemaRegistryException} (fatal) for an answer that
 * refuses the request (401/403, 404, 409, 422, other 4xx). Messages name the URL and the
 * registry's own reason.
 */
public final class SchemaRegistryClient {
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SchemaRegistrySettings settings;
    private final HttpClient http;
    private final String authorization;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();

    public SchemaRegistryClient(SchemaRegistrySettings settings) {
        this.settings = settings;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(settings.connectTimeout()).followRedirects(HttpClient.Redirect.NEVER);
        if ("https".equals(settings.url().getScheme())) {
            b.sslContext(RegistryTls.context(settings));
        }
        this.http = b.build();
        this.authorization = settings.basicAuth()
                ? "Basic " + Base64.getEncoder().encodeToString((settings.username() + ":" + settings.password()).getBytes(StandardCharsets.UTF_8))
                : null;
    }

    public SchemaRegistrySettings settings() {
        return settings;
    }

    /** Registers {@code schema} under {@code subject} (a no-op returning the existing id if it is there already); returns its id. */
    public int register(String subject, Schema schema) {
        Integer cached = cachedId(subject, schema);
        if (cached != null) {
            return cached;
        }
        String what = "registering a schema under subject '" + subject + "'";
        JsonNode answer = send("POST", "/subjects/" + path(subject) + "/versions", schemaBody(schema), what);
        int id = requiredInt(answer, "id", what);
        remember(subject, schema, id);
        LOG.debug("schema {} is id {} under subject {} at {}", schema.getFullName(), id, subject, settings.url());
        return id;
    }

    /**
     * Looks up {@code schema} under {@code subject} without registering it (for auto.register=false).
     * Empty when the subject does not exist or does not hold this schema.
     */
    public Optional<RegisteredSchema> lookUp(String subject, Schema schema) {
        String what = "looking up a schema under subject '" + subject + "'";
        JsonNode answer;
        try {
            answer = send("POST", "/subjects/" + path(subject), schemaBody(schema), what);
        } catch (SchemaRegistryException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
        RegisteredSchema found = new RegisteredSchema(subject, requiredInt(answer, "version", what), requiredInt(answer, "id", what));
        remember(subject, schema, found.id());
        return Optional.of(found);
    }

    /** The schema with registry id {@code id}; cached. Throws a {@link SchemaRegistryException} with status 404 for an unknown id. */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        String what = "fetching schema id " + id;
        JsonNode answer = send("GET", "/schemas/ids/" + id, null, what);
        String type = answer.path("schemaType").asText("AVRO");
        if (!"AVRO".equalsIgnoreCase(type)) {
            throw new SchemaRegistryException("schema registry at " + settings.url() + ": schema id " + id + " is " + type
                    + ", not an Avro schema", 200, 0);
        }
        Schema schema = parse(requiredText(answer, "schema", what), what);
        Schema raced = schemasById.putIfAbsent(id, schema);
        return raced == null ? schema : raced;
    }

    /**
     * Whether {@code schema} may be registered under {@code subject} by the subject's compatibility
     * rule, checked against its latest version. True for a subject that has no version yet.
     */
    public boolean isCompatible(String subject, Schema schema) {
        String what = "checking a schema against the latest version of subject '" + subject + "'";
        try {
            JsonNode answer = send("POST", "/compatibility/subjects/" + path(subject) + "/versions/latest", schemaBody(schema), what);
            JsonNode c = answer.get("is_compatible");
            if (c == null || !c.isBoolean()) {
                throw new SchemaRegistryException("schema registry at " + settings.url() + ": no is_compatible in the answer to " + what, 200, 0);
            }
            return c.booleanValue();
        } catch (SchemaRegistryException e) {
            if (e.isNotFound()) {
                return true;
            }
            throw e;
        }
    }

    /** The subject's compatibility rule, or the registry's global one when the subject has none of its own. */
    public Compatibility compatibility(String subject) {
        String what = "reading the compatibility of subject '" + subject + "'";
        JsonNode answer = send("GET", "/config/" + path(subject) + "?defaultToGlobal=true", null, what);
        return level(answer.path("compatibilityLevel").asText(answer.path("compatibility").asText("")), what);
    }

    /** Sets the subject's compatibility rule (the subject need not exist yet). */
    public void setCompatibility(String subject, Compatibility level) {
        String what = "setting the compatibility of subject '" + subject + "' to " + level;
        ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
        send("PUT", "/config/" + path(subject), body, what);
    }

    private JsonNode send(String method, String pathAndQuery, JsonNode body, String what) {
        URI uri = URI.create(settings.url() + pathAndQuery);
        HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(settings.requestTimeout())
                .header("Accept", CONTENT_TYPE + ", application/json");
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        if (body == null) {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            req.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        }
        HttpResponse<String> response;
        try {
            response = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SchemaRegistryUnavailableException("schema registry at " + settings.url() + " is unreachable (" + describe(e)
                    + ") while " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryUnavailableException("interrupted while " + what + " at " + settings.url(), e);
        }
        return RegistryErrors.check(settings.url(), response, what);
    }

    /** "ConnectException ← ClosedChannelException" plus the first message in the chain: the HttpClient's own often have none. */
    private static String describe(IOException e) {
        StringBuilder out = new StringBuilder();
        String message = null;
        int depth = 0;
        for (Throwable t = e; t != null && depth < 4; t = t.getCause(), depth++) {
            out.append(depth == 0 ? "" : " <- ").append(t.getClass().getSimpleName());
            if (message == null && t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
        }
        return message == null ? out.toString() : out + ": " + message;
    }

    private Integer cachedId(String subject, Schema schema) {
        Map<Schema, Integer> ids = idsBySubject.get(subject);
        return ids == null ? null : ids.get(schema);
    }

    private void remember(String subject, Schema schema, int id) {
        idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>()).put(schema, id);
        schemasById.putIfAbsent(id, schema);
    }

    private static ObjectNode schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString());
    }

    private static String path(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Schema parse(String text, String what) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException("schema registry at " + settings.url() + ": the schema it returned while " + what
                    + " is not valid Avro: " + e.getMessage(), 200, 0);
        }
    }

    private int requiredInt(JsonNode answer, String field, String what) {
        JsonNode n = answer.get(field);
        if (n == null || !n.canConvertToInt()) {
            throw new SchemaRegistryException("schema registry at " + settings.url() + ": no '" + field + "' in the answer to " + what
                    + ": " + RegistryErrors.abbreviate(answer.toString()), 200, 0);
        }
        return n.intValue();
    }

    private String requiredText(JsonNode answer, String field, String what) {
        JsonNode n = answer.get(field);
        if (n == null || !n.isTextual()) {
            throw new SchemaRegistryException("schema registry at " + settings.url() + ": no '" + field + "' in the answer to " + what, 200, 0);
        }
        return n.textValue();
    }

    private Compatibility level(String text, String what) {
        try {
            return Compatibility.valueOf(text);
        } catch (IllegalArgumentException e) {
            throw new SchemaRegistryException("schema registry at " + settings.url() + ": unknown compatibility '" + text + "' in the answer to "
                    + what, 200, 0);
        }
    }
}
