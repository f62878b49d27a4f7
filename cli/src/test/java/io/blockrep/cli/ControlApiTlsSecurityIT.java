package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.config.ControlTls;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.FacilityClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on the control API (issue #13, deliver 1 and 8), against a real facility over real sockets,
 * with certificates made by {@code keytool} for the run: the client with the right certificate and token
 * is served; a plaintext client, a client without a certificate, with one from another CA or with an
 * expired one are refused with nothing applied, and the good client is served throughout. Tokens still
 * decide the role over TLS, and the clients check the facility's certificate names the host they asked for.
 */
@Tag("slow") // about 30 s: some 20 keytool runs, and stalled handshakes that last the 10 s request deadline
class ControlApiTlsSecurityIT {
    private static final String ADMIN = "admin-token-0123456789abcdef";
    private static final String READ = "read-token-0123456789abcdef";

    @TempDir
    static Path dir;

    private static ControlTestCertificates certs;
    private static Facility facility;
    private static String address;

    @BeforeAll
    static void start() throws IOException {
        certs = ControlTestCertificates.make(Files.createDirectories(dir.resolve("certs")));
        facility = Facility.start(ProducerConfig.from(props("site-b", "server"), Map.of()));
        address = "127.0.0.1:" + facility.controlPort();
    }

    @AfterAll
    static void stop() {
        if (facility != null) {
            facility.close();
        }
    }

    private static Properties props(String node, String serverStore) throws IOException {
        Properties p = new Properties();
        p.setProperty("producer.node.id", node);
        p.setProperty("producer.state.dir", dir.resolve(node).toString());
        p.setProperty("producer.nbd.listen", "127.0.0.1:0");
        p.setProperty("producer.control.listen", "127.0.0.1:0");
        p.setProperty("producer.link.listen", "127.0.0.1:0");
        p.setProperty("producer.link.secret", "a-link-secret-of-some-length");
        p.setProperty("producer.volumes", "demo,replica");
        p.setProperty("producer.volume.demo.size", "4M");
        p.setProperty("producer.volume.replica.size", "4M");
        p.setProperty("producer.volume.replica.role", "SECONDARY");
        p.setProperty("producer.control.token.file", token("admin.token", ADMIN).toString());
        p.setProperty("producer.control.read.token.file", token("read.token", READ).toString());
        p.setProperty("producer.control.tls.enabled", "true");
        p.setProperty("producer.control.tls.keystore.path", certs.path(serverStore + ".p12").toString());
        p.setProperty("producer.control.tls.keystore.password", ControlTestCertificates.PASSWORD);
        p.setProperty("producer.control.tls.truststore.path", certs.path("truststore.p12").toString());
        p.setProperty("producer.control.tls.truststore.password", ControlTestCertificates.PASSWORD);
        return p;
    }

    private static Path token(String name, String token) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, token + "\n");
        return file;
    }

    private static FacilityClient client(String token, ControlTls tls) {
        return FacilityClient.of(address, token).withTls(tls);
    }

    private static FacilityClient good() {
        return client(ADMIN, certs.tls("client", true));
    }

    /** Role and mode of each volume, as the good client reads them. */
    private static String state() {
        StringBuilder s = new StringBuilder();
        for (JsonNode v : good().status().path("volumes")) {
            s.append(v.path("volume").asText()).append(' ').append(v.path("role").asText()).append(' ')
                    .append(v.path("mode").asText()).append('\n');
        }
        return s.toString();
    }

    @Test
    void theRightCertificateAndTokenGetStatusAndTokensStillDecideTheRole() {
        assertThat(good().tls()).isTrue();
        assertThat(state()).contains("demo PRIMARY").contains("replica SECONDARY");

        // The read token over a good TLS connection reads, but may not change state.
        FacilityClient reader = client(READ, certs.tls("client", true));
        assertThat(reader.status().path("volumes")).hasSize(2);
        assertThatThrownBy(() -> reader.promote("replica", true)).isInstanceOf(InvalidInputException.class).hasMessageContaining("403");
        // A verified certificate alone grants nothing: the token is still required.
        assertThatThrownBy(() -> client(null, certs.tls("client", true)).status())
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("401");
        assertThat(state()).contains("replica SECONDARY");

        // The replayer's own configuration gives the same client: replayer.control.tls.* for every node.
        Properties r = new Properties();
        r.setProperty("replayer.id", "r1");
        r.setProperty("replayer.kafka.bootstrap.servers", "127.0.0.1:9");
        r.setProperty("replayer.link.secret", "a-link-secret-of-some-length");
        r.setProperty("replayer.control.token.file", dir.resolve("admin.token").toString());
        r.setProperty("replayer.control.tls.enabled", "true");
        r.setProperty("replayer.control.tls.keystore.path", certs.path("client.p12").toString());
        r.setProperty("replayer.control.tls.truststore.path", certs.path("truststore.p12").toString());
        r.setProperty("replayer.control.tls.truststore.password", ControlTestCertificates.PASSWORD);
        r.setProperty("replayer.node.site-b.link", "127.0.0.1:9");
        r.setProperty("replayer.node.site-b.control", address);
        r.setProperty("replayer.volumes", "demo");
        r.setProperty("replayer.volume.demo.nodes", "site-b,site-b2");
        r.setProperty("replayer.nodes", "site-b,site-b2");
        r.setProperty("replayer.node.site-b2.link", "127.0.0.1:9");
        r.setProperty("replayer.node.site-b2.control", "127.0.0.1:9");
        ReplayerConfig cfg = ReplayerConfig.from(r, Map.of("BLOCKREP_REPLAYER_CONTROL_TLS_KEYSTORE_PASSWORD",
                ControlTestCertificates.PASSWORD));
        FacilityClient configured = FacilityClient.of(cfg.node("site-b"));
        assertThat(configured.tls()).isTrue();
        assertThat(configured.volumeStatus("replica").path("role").asText()).isEqualTo("SECONDARY");
        // A key store password that is wrong is a configuration problem, found before any connection.
        assertThatThrownBy(() -> ReplayerConfig.from(r, Map.of("BLOCKREP_REPLAYER_CONTROL_TLS_KEYSTORE_PASSWORD", "wrong-password")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("replayer.control.tls.keystore.path");
    }

    @Test
    void aPlaintextClientOnTheTlsPortIsRefused() throws Exception {
        String before = state();
        // HTTP, with the admin token, on the HTTPS port: no HTTP answer, and the connection is closed.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", facility.controlPort()), 2_000);
            s.setSoTimeout(15_000);
            s.getOutputStream().write(("POST /v1/volumes/replica/promote?force=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + ADMIN + "\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            String answer = readUntilClosed(s.getInputStream());
            assertThat(answer).doesNotStartWith("HTTP/");
        }
        assertThatThrownBy(() -> FacilityClient.of(address, ADMIN).promote("replica", true)).isInstanceOf(RetriableException.class);
        assertThat(state()).isEqualTo(before);
    }

    @Test
    void clientsWithoutTheRightCertificateAreRefusedAndTheGoodClientIsServedThroughout() {
        String before = state();
        Map<String, ControlTls> refused = Map.of(
                "no client certificate", certs.tls(null, true),
                "a certificate from another CA", certs.tls("other-ca-client", true),
                "an expired certificate", certs.tls("expired-client", true));
        for (Map.Entry<String, ControlTls> e : refused.entrySet()) {
            FacilityClient bad = client(ADMIN, e.getValue());
            // The handshake fails before any request is read: nothing applied, no HTTP answer to the bad client.
            assertThatThrownBy(() -> bad.promote("replica", true)).as(e.getKey())
                    .isInstanceOf(RetriableException.class).hasMessageContaining("TLS");
            assertThatThrownBy(bad::status).as(e.getKey()).isInstanceOf(RetriableException.class);
            assertThat(state()).as("after " + e.getKey()).isEqualTo(before);
        }
    }

    @Test
    void theClientRefusesAFacilityWhoseCertificateNamesAnotherHost() throws IOException {
        try (Facility misnamed = Facility.start(ProducerConfig.from(props("site-c", "misnamed-server"), Map.of()))) {
            FacilityClient client = FacilityClient.of("127.0.0.1:" + misnamed.controlPort(), ADMIN).withTls(certs.tls("client", true));
            assertThatThrownBy(client::status).isInstanceOf(RetriableException.class).hasMessageContaining("TLS");
        }
        // Without the test CA in the trust store, the good facility's certificate is not trusted either.
        assertThatThrownBy(() -> client(ADMIN, certs.tls("client", false)).status())
                .isInstanceOf(RetriableException.class).hasMessageContaining("TLS");
    }

    @Test
    void theStatusVerbSpeaksTlsWithTheCertificatesOnItsCommandLine() throws Exception {
        Path jar = Path.of("target", "blockrep.jar").toAbsolutePath();
        assertThat(jar).as("the packaged jar (mvn -pl cli -am package)").exists();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                "status", "--control", address, "--token-file", dir.resolve("admin.token").toString(), "--json",
                "--tls-keystore", certs.path("client.p12").toString(), "--tls-truststore", certs.path("truststore.p12").toString());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("BLOCKREP_CONTROL_TLS_KEYSTORE_PASSWORD", ControlTestCertificates.PASSWORD);
        pb.environment().put("BLOCKREP_CONTROL_TLS_TRUSTSTORE_PASSWORD", ControlTestCertificates.PASSWORD);
        Process ok = pb.start();
        String out = new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(ok.waitFor()).as(out).isZero();
        assertThat(out).contains("\"volume\" : \"replica\"");

        // The same verb with the expired certificate is refused.
        List<String> expired = new ArrayList<>(command);
        expired.set(expired.indexOf(certs.path("client.p12").toString()), certs.path("expired-client.p12").toString());
        ProcessBuilder bad = new ProcessBuilder(expired).redirectErrorStream(true);
        bad.environment().putAll(pb.environment());
        Process refused = bad.start();
        String badOut = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(refused.waitFor()).as(badOut).isNotZero();
        assertThat(badOut).doesNotContain("\"volume\"");
    }

    @Test
    void stalledHandshakesDoNotHoldTheApi() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            // Eight connections each start a TLS record (a ClientHello of 512 bytes) and stop: each holds a request thread
            // (the JDK server handshakes on it with blocking reads), but no more than that, and not past the request deadline.
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", facility.controlPort()), 2_000);
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00});
                s.getOutputStream().flush();
                stalled.add(s);
            }
            long start = System.nanoTime();
            assertThat(state()).contains("demo PRIMARY");
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(3));
            // And they are dropped after the request deadline (10 s), not held for as long as they stall.
            for (Socket s : stalled) {
                s.setSoTimeout(20_000);
                assertThat(readUntilClosed(s.getInputStream())).doesNotContain("HTTP/");
            }
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(18));
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    /** What the server sends until it closes the connection (or resets it). */
    private static String readUntilClosed(InputStream in) {
        StringBuilder s = new StringBuilder();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                s.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            // reset: closed as well
        }
        return s.toString();
    }
}
