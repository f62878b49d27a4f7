package io.blockrep.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading control-API key material: PKCS12 as keytool makes it, PEM, and the problems an operator is told. */
class ControlTlsTest {
    private static final String PASSWORD = "test-store-password";

    @TempDir
    static Path dir;
    private static Path p12;

    @BeforeAll
    static void makeAKeyStore() throws Exception {
        p12 = dir.resolve("self.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "self", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=self", "-validity", "2",
                "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD).redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes());
        assertThat(keytool.waitFor()).as(out).isZero();
    }

    private static ControlTls.Store pkcs12(String password) {
        return new ControlTls.Store(p12, password, "pkcs12");
    }

    @Test
    void aKeytoolPkcs12KeyStoreLoadsAndIsNoTrustStore() {
        ControlTls tls = new ControlTls(pkcs12(PASSWORD), null);
        assertThat(tls.problems("producer.control.tls.")).isEmpty();
        assertThat(tls.sslContext().getSocketFactory()).isNotNull();
        // A store with only a private key is not a trust store: no CA certificate was imported into it.
        assertThat(new ControlTls(null, pkcs12(PASSWORD)).problems("producer.control.tls.")).singleElement().asString()
                .startsWith("producer.control.tls.truststore.path").contains("no trusted certificate");
    }

    @Test
    void aWrongPasswordIsAProblemNamingTheKey() {
        List<String> problems = new ControlTls(pkcs12("not-the-password"), null).problems("producer.control.tls.");
        assertThat(problems).singleElement().asString()
                .startsWith("producer.control.tls.keystore.path: cannot read the PKCS12 key store").contains("password");
        assertThatThrownBy(() -> new ControlTls(pkcs12("not-the-password"), null).sslContext())
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("unusable");
        assertThat(new ControlTls(null, new ControlTls.Store(dir.resolve("missing.p12"), PASSWORD, null)).problems("x."))
                .singleElement().asString().startsWith("x.truststore.path: cannot read");
    }

    @Test
    void pemFilesHoldAPkcs8KeyWithItsChainAndTrustedCertificates() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        Key key = ks.getKey("self", PASSWORD.toCharArray());
        Certificate cert = ks.getCertificate("self");
        String certPem = pem("CERTIFICATE", cert.getEncoded());
        Path keyPem = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", key.getEncoded()) + certPem);
        Path caPem = Files.writeString(dir.resolve("ca.pem"), certPem);

        ControlTls tls = new ControlTls(new ControlTls.Store(keyPem, null, "PEM"), new ControlTls.Store(caPem, null, "pem"));
        assertThat(tls.problems("replayer.control.tls.")).isEmpty();
        assertThat(tls.sslContext()).isNotNull();

        Path encrypted = Files.writeString(dir.resolve("encrypted.pem"), pem("ENCRYPTED PRIVATE KEY", key.getEncoded()) + certPem);
        assertThat(new ControlTls(new ControlTls.Store(encrypted, null, "PEM"), null).problems("p."))
                .singleElement().asString().contains("p.keystore.path").contains("PKCS#8");
        Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
        assertThat(new ControlTls(null, new ControlTls.Store(empty, null, "PEM")).problems("p."))
                .singleElement().asString().contains("p.truststore.path").contains("CERTIFICATE");
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
