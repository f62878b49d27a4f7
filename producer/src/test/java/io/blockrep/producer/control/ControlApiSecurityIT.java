package io.blockrep.producer.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.common.InvalidInputException;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproductions 1 and 2 of issue #13 against a real facility over real sockets: the control API
 * refuses unauthenticated and under-privileged callers with nothing applied, refuses anything a
 * browser could send, and keeps answering while slow clients trickle request bodies.
 */
class ControlApiSecurityIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN = "admin-token-0123456789abcdef";
    private static final String READ = "read-token-0123456789abcdef";
    private static final String REPLAY_REPORT = "{\"eras\":[{\"era\":1,\"regions\":0}]}";

    @TempDir
    Path dir;

    private Facility facility;

    @AfterEach
    void stop() {
        if (facility != null) {
            facility.close();
        }
    }

    private Properties props() {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-b");
        p.setProperty("producer.state.dir", dir.resolve("state").toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:0");
        p.setProperty("producer.control.listen", "127.0.0.1:0");
        p.setProperty("producer.link.listen", "127.0.0.1:0");
        p.setProperty("producer.link.secret", "a-link-secret-of-some-length");
        p.setProperty("producer.volumes", "demo,replica");
        p.setProperty("producer.volume.demo.size", "4M");
        p.setProperty("producer.volume.replica.size", "4M");
        p.setProperty("producer.volume.replica.role", "SECONDARY");
        return p;
    }

    private Properties withTokens() throws IOException {
        Properties p = props();
        p.setProperty("producer.control.token.file", token("admin.token", ADMIN).toString());
        p.setProperty("producer.control.read.token.file", token("read.token", READ).toString());
        return p;
    }

    private Path token(String name, String token) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, token + "\n");
        return file;
    }

    private RawHttp http() {
        return new RawHttp(facility.controlPort());
    }

    /** Role, mode and current generation of each volume, read with the admin token (or none). */
    private String state(String token) throws IOException {
        RawHttp h = http();
        if (token != null) {
            h.bearer(token);
        }
        RawHttp.Response r = h.get("/v1/status");
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        StringBuilder s = new StringBuilder();
        for (JsonNode v : JSON.readTree(r.body()).path("volumes")) {
            s.append(v.path("volume").asText()).append(' ').append(v.path("role").asText()).append(' ')
                    .append(v.path("mode").asText()).append(' ').append(v.path("generations").path("current").asText())
                    .append(' ').append(v.path("pendingEras")).append('\n');
        }
        return s.toString();
    }

    /** The state-changing and data-returning requests of reproduction 1. */
    private List<RawHttp.Response> adminRequests(RawHttp h) throws IOException {
        h.header("Content-Type", "application/json");
        return List.of(
                h.post("/v1/volumes/demo/replayed", REPLAY_REPORT),
                h.post("/v1/volumes/replica/promote?force=true", ""),
                h.post("/v1/volumes/replica/adopt?generation=0123456789abcdef&node=site-a", ""),
                h.post("/v1/volumes/demo/demote?force=true", ""),
                h.post("/v1/link/cut", ""),
                h.get("/v1/volumes/demo/data?offset=0&length=4096"));
    }

    @Test
    void unauthenticatedCallersAreRefusedWithNothingApplied() throws Exception {
        facility = Facility.start(ProducerConfig.from(withTokens(), Map.of()));
        String before = state(ADMIN);
        assertThat(before).contains("demo PRIMARY").contains("replica SECONDARY");

        for (RawHttp.Response r : adminRequests(http())) {
            assertThat(r.status()).as(r.toString()).isEqualTo(401);
            assertThat(r.headers()).containsIgnoringCase("WWW-Authenticate: Bearer");
        }
        for (RawHttp.Response r : adminRequests(http().bearer("not-the-token-0123456789"))) {
            assertThat(r.status()).as(r.toString()).isEqualTo(401);
        }
        assertThat(http().get("/v1/status").status()).isEqualTo(401);
        assertThat(state(ADMIN)).isEqualTo(before);
    }

    @Test
    void aReadTokenReadsStatusButCannotCallAdminEndpoints() throws Exception {
        facility = Facility.start(ProducerConfig.from(withTokens(), Map.of()));
        String before = state(ADMIN);

        assertThat(state(READ)).isEqualTo(before);
        assertThat(http().bearer(READ).get("/v1/volumes/demo/regions").status()).isEqualTo(200);
        for (RawHttp.Response r : adminRequests(http().bearer(READ))) {
            assertThat(r.status()).as(r.toString()).isEqualTo(403);
            assertThat(r.body()).contains("admin");
        }
        assertThat(state(ADMIN)).isEqualTo(before);

        // The admin token may do what the read token may not.
        RawHttp.Response demoted = http().bearer(ADMIN).header("Content-Type", "application/json")
                .post("/v1/volumes/demo/demote?force=true", "");
        assertThat(demoted.status()).as(demoted.toString()).isEqualTo(200);
        assertThat(state(ADMIN)).contains("demo SECONDARY");
    }

    @Test
    void aBrowserCannotDriveTheControlApi() throws Exception {
        facility = Facility.start(ProducerConfig.from(props(), Map.of())); // loopback, no token: the default
        String before = state(null);

        // Reproduction 1: a web page's "simple" cross-origin POST (no preflight) ...
        RawHttp.Response simple = http().header("Origin", "http://evil.example").header("Content-Type", "text/plain")
                .post("/v1/volumes/demo/demote?force=true", "x");
        assertThat(simple.status()).as(simple.toString()).isEqualTo(403);
        // ... any request that carries an Origin at all ...
        RawHttp.Response json = http().header("Origin", "http://evil.example").header("Content-Type", "application/json")
                .post("/v1/volumes/demo/demote?force=true", "");
        assertThat(json.status()).as(json.toString()).isEqualTo(403);
        assertThat(http().header("Origin", "null").get("/v1/volumes/demo/data?offset=0&length=512").status()).isEqualTo(403);
        // ... a POST that is not JSON ...
        RawHttp.Response plain = http().header("Content-Type", "text/plain").post("/v1/volumes/demo/demote?force=true", "x");
        assertThat(plain.status()).as(plain.toString()).isEqualTo(415);
        // ... and a page that rebound its own name to 127.0.0.1 (same-origin to the browser, no Origin on a GET).
        RawHttp.Response rebound = http().header("Host", "evil.example:" + facility.controlPort())
                .get("/v1/volumes/demo/data?offset=0&length=512");
        assertThat(rebound.status()).as(rebound.toString()).isEqualTo(403);
        assertThat(state(null)).isEqualTo(before);

        // The CLI's and the replayer's requests still work on the default loopback set-up.
        RawHttp.Response ok = http().header("Content-Type", "application/json; charset=utf-8")
                .post("/v1/volumes/demo/demote?force=true", "");
        assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
        assertThat(http().header("Host", "localhost:" + facility.controlPort()).get("/v1/status").status()).isEqualTo(200);
    }

    @Test
    void offLoopbackTheFacilityRefusesToStartWithoutAToken() throws Exception {
        Properties open = props();
        open.setProperty("producer.control.listen", "0.0.0.0:0");
        assertThatThrownBy(() -> ProducerConfig.from(open, Map.of()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("producer.control.listen")
                .hasMessageContaining("producer.control.token.file");

        Properties shortToken = props();
        shortToken.setProperty("producer.control.token.file", token("short.token", "short").toString());
        assertThatThrownBy(() -> ProducerConfig.from(shortToken, Map.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("at least 16");

        Properties readOnly = props();
        readOnly.setProperty("producer.control.read.token.file", token("read.token", READ).toString());
        assertThatThrownBy(() -> ProducerConfig.from(readOnly, Map.of()))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("producer.control.token.file");

        Properties guarded = withTokens();
        guarded.setProperty("producer.control.listen", "0.0.0.0:0");
        assertThatCode(() -> ProducerConfig.from(guarded, Map.of())).doesNotThrowAnyException();
    }

    @Test
    void slowRequestBodiesDoNotFreezeTheControlApi() throws Exception {
        facility = Facility.start(ProducerConfig.from(props(), Map.of()));
        List<Socket> slow = new ArrayList<>();
        try {
            // Reproduction 2: four connections announce a 1 MB body and send 10 bytes of it.
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", facility.controlPort()), 2_000);
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/volumes/demo/progress HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000000\r\n\r\n{\"era\":1,\"").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                slow.add(s);
            }
            long start = System.nanoTime();
            try {
                RawHttp.Response r = http().timeout(2_000).get("/v1/status");
                assertThat(r.status()).isEqualTo(200);
            } catch (SocketTimeoutException e) {
                fail("GET /v1/status got no answer within 2 s while four slow POSTs were open");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));

            // A body larger than the endpoint takes is refused at once, without waiting for it.
            RawHttp.Response big = http().timeout(2_000).header("Content-Type", "application/json")
                    .header("Content-Length", "100000000").send("POST", "/v1/volumes/demo/progress", null);
            assertThat(big.status()).as(big.toString()).isEqualTo(413);

            // The slow clients are dropped after the request deadline, not served for as long as they trickle.
            for (Socket s : slow) {
                s.setSoTimeout((int) ControlServer.REQUEST_DEADLINE.plusSeconds(5).toMillis());
                InputStream in = s.getInputStream();
                await().atMost(ControlServer.REQUEST_DEADLINE.plusSeconds(6)).until(() -> closedByServer(in));
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    /** Reads what the server sends until it closes the connection; true once it has. */
    private static boolean closedByServer(InputStream in) {
        try {
            return in.read(new byte[4096]) < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }
}
