package io.blockrep.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;

/** Turns a registry answer into its JSON body, or into the exception its status calls for, with a message an operator can act on. */
final class RegistryErrors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_QUOTED = 500;

    private RegistryErrors() {
    }

    static JsonNode check(URI url, HttpResponse<String> response, String what) {
        int status = response.statusCode();
        JsonNode body = parse(response.body());
        if (status >= 200 && status < 300) {
            if (body == null) {
                throw new SchemaRegistryException("schema registry at " + url + ": an answer that is not JSON to " + what + ": "
                        + abbreviate(response.body()), status, 0);
            }
            return body;
        }
        int errorCode = body == null ? 0 : body.path("error_code").asInt(0);
        String reason = body != null && body.hasNonNull("message") ? body.get("message").asText() : abbreviate(response.body());
        String prefix = "schema registry at " + url + " answered HTTP " + status + " while " + what + ": ";
        if (status >= 500) {
            throw new SchemaRegistryUnavailableException(prefix + reason);
        }
        String message = switch (status) {
            case 401 -> prefix + "credentials missing or refused; check the registry's basic-auth user and password"
                    + (reason.isBlank() ? "" : " (" + reason + ")");
            case 403 -> prefix + "the credentials are not allowed to do this" + (reason.isBlank() ? "" : " (" + reason + ")");
            case 404 -> prefix + "not found: " + reason;
            case 409 -> prefix + "the schema is incompatible with the subject's compatibility rule: " + reason;
            case 422 -> prefix + "invalid schema or request: " + reason;
            default -> prefix + reason;
        };
        throw new SchemaRegistryException(message, status, errorCode);
    }

    static String abbreviate(String text) {
        if (text == null) {
            return "";
        }
        String oneLine = text.strip().replaceAll("\\s+", " ");
        return oneLine.length() <= MAX_QUOTED ? oneLine : oneLine.substring(0, MAX_QUOTED) + "...";
    }

    private static JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(text);
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null;
        }
    }
}
