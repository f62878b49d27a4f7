package io.blockrep.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.blockrep.common.FatalException;
import io.blockrep.testkit.tls.TestCertificates;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's trust store and key store reach the TLS handshake: an https "registry" that requires a client certificate. */
class SchemaRegistryTlsTest {
    @TempDir
    static Path dir;
    static TestCertificates ca;
    static HttpsServer server;

    @BeforeAll
    static void start() throws Exception {
        ca = TestCertificates.authority(dir, "registry-ca");
        Path serverStore = ca.leaf("registry");
        SSLContext ctx = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(serverStore), TestCertificates.PASSWORD.toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(ca.truststore()));
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = getSSLContext().getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", ex -> {
            byte[] out = "{\"compatibilityLevel\":\"BACKWARD\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static KeyStore load(Path p) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p)) {
            ks.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        return ks;
    }

    private static String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/apis/ccompat/v7";
    }

    @Test
    void withTheTrustStoreAndAClientCertificateTheRegistryAnswers() {
        SchemaRegistryClient c = new SchemaRegistryClient(SchemaRegistrySettings.builder(url())
                .trustStore(ca.truststore(), TestCertificates.PASSWORD, "PKCS12")
                .keyStore(ca.leaf("facility"), TestCertificates.PASSWORD, null).build());
        assertThat(c.compatibility("s")).isEqualTo(Compatibility.BACKWARD);
    }

    @Test
    void anUntrustedServerOrAMissingClientCertificateIsAnUnreachableRegistry() {
        SchemaRegistryClient noTrust = new SchemaRegistryClient(SchemaRegistrySettings.builder(url()).build());
        assertThatThrownBy(() -> noTrust.compatibility("s")).isInstanceOf(SchemaRegistryUnavailableException.class)
                .hasMessageContaining(url()).hasMessageContaining("SSLHandshakeException");
        SchemaRegistryClient noCert = new SchemaRegistryClient(SchemaRegistrySettings.builder(url())
                .trustStore(ca.truststore(), TestCertificates.PASSWORD, "PKCS12").build());
        assertThatThrownBy(() -> noCert.compatibility("s")).isInstanceOf(SchemaRegistryUnavailableException.class).hasMessageContaining(url());
    }

    @Test
    void aWrongStorePasswordIsFatalAndNamesTheFile() {
        Path trust = ca.truststore();
        assertThatThrownBy(() -> new SchemaRegistryClient(SchemaRegistrySettings.builder(url()).trustStore(trust, "wrong", "PKCS12").build()))
                .isInstanceOf(FatalException.class).hasMessageContaining(trust.toString()).hasMessageContaining("trust store");
    }
}
