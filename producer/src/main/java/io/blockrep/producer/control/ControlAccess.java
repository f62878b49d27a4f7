package io.blockrep.producer.control;

import com.sun.net.httpserver.HttpExchange;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * Who may call the control API, checked before any endpoint runs. Immutable and thread-safe.
 *
 * <p>Two roles: {@link Level#READ} (status and dirty-region runs) and {@link Level#ADMIN} (everything
 * that changes state or returns volume bytes). With tokens configured, every request must carry
 * {@code Authorization: Bearer <token>}: the admin token may do everything, the read token only
 * READ. Tokens are compared as SHA-256 digests with {@link MessageDigest#isEqual}, so neither their
 * contents nor their lengths show in the time an answer takes. With no token configured (only
 * allowed on a loopback listen address, see {@code ProducerConfig}) every local caller is admin, as
 * before.
 *
 * <p>Whatever the tokens, a web browser can never drive the API: a request carrying an {@code Origin}
 * header (which browsers add to every cross-origin request and to every POST) is refused, a POST must
 * be {@code Content-Type: application/json} (a page cannot send that cross-origin without a CORS
 * preflight, which this server never grants), and without tokens the {@code Host} header must be a
 * loopback name or address literal, so that a page whose name was rebound to 127.0.0.1 (DNS
 * rebinding) is refused as well.
 */
public final class ControlAccess {
    /** What an endpoint needs. */
    public enum Level { READ, ADMIN }

    /** Why a request was refused: an HTTP status and a message for the caller. */
    record Refusal(int status, String message) {
    }

    private final byte[] admin;
    private final byte[] read;
    private final String listenHost;

    private ControlAccess(byte[] admin, byte[] read, String listenHost) {
        this.admin = admin;
        this.read = read;
        this.listenHost = listenHost;
    }

    /** No tokens: every caller that passes the browser checks is admin (loopback only). */
    public static ControlAccess open(String listenHost) {
        return new ControlAccess(null, null, listenHost);
    }

    /** The admin token and, optionally (null), a read-only token. */
    public static ControlAccess tokens(String listenHost, String adminToken, String readToken) {
        if (adminToken == null) {
            throw new IllegalArgumentException("a read token needs an admin token");
        }
        return new ControlAccess(digest(adminToken), readToken == null ? null : digest(readToken), listenHost);
    }

    public boolean tokenRequired() {
        return admin != null;
    }

    /** Null when {@code ex} may go on to an endpoint that needs {@code needed}, else why not. */
    Refusal check(HttpExchange ex, Level needed) {
        if (ex.getRequestHeaders().containsKey("Origin")) {
            return new Refusal(403, "requests from web pages (with an Origin header) are refused by the control API");
        }
        if (admin == null && !loopbackHost(ex.getRequestHeaders().getFirst("Host"))) {
            return new Refusal(403, "Host '" + ex.getRequestHeaders().getFirst("Host") + "' is not a loopback name or address;"
                    + " without a control token this API answers only to 127.0.0.1, ::1 and localhost");
        }
        if (ex.getRequestMethod().equals("POST") && !json(ex.getRequestHeaders().getFirst("Content-Type"))) {
            return new Refusal(415, "a POST to the control API must be Content-Type: application/json");
        }
        if (admin == null) {
            return null;
        }
        String authorization = ex.getRequestHeaders().getFirst("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return new Refusal(401, "this control API needs a token (Authorization: Bearer ...; blockrep verbs: --token-file"
                    + " or BLOCKREP_CONTROL_TOKEN; replayer: replayer.control.token.file)");
        }
        byte[] given = digest(authorization.substring(7).strip());
        if (MessageDigest.isEqual(given, admin)) {
            return null;
        }
        if (read != null && MessageDigest.isEqual(given, read)) {
            return needed == Level.READ ? null
                    : new Refusal(403, "the read-only token may not call " + ex.getRequestMethod() + " "
                            + ex.getRequestURI().getPath() + "; it needs the admin token (producer.control.token.file)");
        }
        return new Refusal(401, "wrong control API token");
    }

    private static boolean json(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
        return type.equals("application/json");
    }

    /** A Host header naming this machine's loopback: an address literal that is loopback, localhost, or the listen host. */
    private boolean loopbackHost(String host) {
        if (host == null) {
            return true; // HTTP/1.0 without Host: not a browser
        }
        String name = host.strip();
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            name = end < 0 ? name : name.substring(1, end);
        } else if (name.indexOf(':') >= 0 && name.indexOf(':') == name.lastIndexOf(':')) {
            name = name.substring(0, name.indexOf(':'));
        }
        name = name.toLowerCase(Locale.ROOT);
        if (name.equals("localhost") || name.equals(listenHost.toLowerCase(Locale.ROOT))) {
            return true;
        }
        if (!name.matches("[0-9.]+|[0-9a-f:.]*:[0-9a-f:.]*")) {
            return false; // a name: only localhost and the configured listen host are ours
        }
        try {
            return InetAddress.getByName(name).isLoopbackAddress(); // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
