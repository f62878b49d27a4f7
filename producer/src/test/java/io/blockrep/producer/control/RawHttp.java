package io.blockrep.producer.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A few lines of HTTP/1.1 over a plain socket, so that a test controls every header (Origin, Host,
 * Content-Type, Authorization) the way a browser or an attacker would send them. One request per
 * connection ({@code Connection: close}).
 */
final class RawHttp {
    private final int port;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private int timeoutMillis = 10_000;

    RawHttp(int port) {
        this.port = port;
        headers.put("Host", "127.0.0.1:" + port);
    }

    RawHttp header(String name, String value) {
        if (value == null) {
            headers.remove(name);
        } else {
            headers.put(name, value);
        }
        return this;
    }

    /** Longest wait for the answer; past it {@link #send} throws {@link java.net.SocketTimeoutException}. */
    RawHttp timeout(int millis) {
        timeoutMillis = millis;
        return this;
    }

    RawHttp bearer(String token) {
        return header("Authorization", "Bearer " + token);
    }

    /** The status and body of one request; {@code body} null for none. */
    Response send(String method, String path, String body) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(timeoutMillis);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            if ((body != null || method.equals("POST")) && !headers.containsKey("Content-Length")) {
                req.append("Content-Length: ").append(bytes.length).append("\r\n");
            }
            req.append("Connection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            return Response.parse(s.getInputStream());
        }
    }

    Response post(String path, String body) throws IOException {
        return send("POST", path, body);
    }

    Response get(String path) throws IOException {
        return send("GET", path, null);
    }

    record Response(int status, String headers, String body) {
        /** Reads the head and a Content-Length body; does not wait for the server to close the connection. */
        static Response parse(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                head.write(c);
                if (head.size() >= 4 && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    break;
                }
            }
            String text = head.toString(StandardCharsets.ISO_8859_1).trim();
            String[] statusLine = text.split("\r\n", 2)[0].split(" ");
            int status = statusLine.length > 1 ? Integer.parseInt(statusLine[1]) : -1;
            int length = 0;
            for (String line : text.split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            return new Response(status, text, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }
}
