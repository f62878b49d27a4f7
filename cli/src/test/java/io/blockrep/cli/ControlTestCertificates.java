package io.blockrep.cli;

import io.blockrep.common.config.ControlTls;
import io.blockrep.testkit.tls.Keytool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Certificates for control-API TLS tests, made with the JDK's {@code keytool} in a test's temporary
 * directory (nothing is committed): a test CA and a second, unrelated CA; a facility (server) certificate
 * for 127.0.0.1 and localhost; a client certificate, the same key with an expired certificate, and the same
 * key signed by the other CA; and a server certificate that names another host. Every store is PKCS12
 * with the password {@link #PASSWORD}.
 */
final class ControlTestCertificates {
    static final String PASSWORD = "test-store-password";

    final Path dir;

    private ControlTestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Makes every store in {@code dir} (about 20 keytool runs, a few seconds). */
    static ControlTestCertificates make(Path dir) throws IOException {
        ControlTestCertificates c = new ControlTestCertificates(dir);
        c.ca("ca", "CN=blockrep test CA");
        c.ca("other-ca", "CN=some other CA");
        c.keytool("-importcert", "-noprompt", "-alias", "ca", "-file", c.file("ca.pem"), "-keystore", c.file("truststore.p12"));

        c.leaf("server", "CN=facility", "ca", "san=ip:127.0.0.1,dns:localhost", "serverAuth", null, 30);
        c.leaf("client", "CN=replayer", "ca", null, "clientAuth", null, 30);
        c.resign("client", "expired-client", "ca", null, "clientAuth", "-10d", 1);
        c.resign("client", "other-ca-client", "other-ca", null, "clientAuth", null, 30);
        c.resign("server", "misnamed-server", "ca", "san=dns:elsewhere.example", "serverAuth", null, 30);
        return c;
    }

    /** The key and trust stores of one side: {@code name}.p12 and the test CA's trust store (null = none). */
    ControlTls tls(String keyStoreName, boolean withTrustStore) {
        return new ControlTls(keyStoreName == null ? null : new ControlTls.Store(path(keyStoreName + ".p12"), PASSWORD, "PKCS12"),
                withTrustStore ? new ControlTls.Store(path("truststore.p12"), PASSWORD, "PKCS12") : null);
    }

    Path path(String name) {
        return dir.resolve(name);
    }

    private String file(String name) {
        return path(name).toString();
    }

    private void ca(String name, String dname) {
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname, "-ext", "bc:c",
                "-validity", "30", "-keystore", file(name + ".p12"));
        keytool("-exportcert", "-rfc", "-alias", name, "-keystore", file(name + ".p12"), "-file", file(name + ".pem"));
    }

    /** A new key in {@code name}.p12 with a certificate signed by {@code ca} (and the CA's certificate beside it). */
    private void leaf(String name, String dname, String ca, String san, String eku, String startDate, int days) {
        keytool("-genkeypair", "-alias", "leaf", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname, "-validity", "30",
                "-keystore", file(name + ".p12"));
        keytool("-certreq", "-alias", "leaf", "-keystore", file(name + ".p12"), "-file", file(name + ".csr"));
        sign(name, ca, true, san, eku, startDate, days);
    }

    /** {@code from}'s key (signed by the test CA) in a copy, {@code name}.p12, with a new certificate signed by {@code ca}. */
    private void resign(String from, String name, String ca, String san, String eku, String startDate, int days) throws IOException {
        Files.copy(path(from + ".p12"), path(name + ".p12"));
        Files.copy(path(from + ".csr"), path(name + ".csr"));
        sign(name, ca, !ca.equals("ca"), san, eku, startDate, days);
    }

    /** Signs {@code name}.csr with {@code ca} and imports the reply (after the CA's certificate, unless the store has it). */
    private void sign(String name, String ca, boolean importCa, String san, String eku, String startDate, int days) {
        List<String> args = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", ca, "-keystore", file(ca + ".p12"),
                "-infile", file(name + ".csr"), "-outfile", file(name + ".crt"), "-ext", "eku=" + eku, "-validity", Integer.toString(days)));
        if (san != null) {
            args.addAll(List.of("-ext", san));
        }
        if (startDate != null) {
            args.addAll(List.of("-startdate", startDate));
        }
        keytool(args.toArray(String[]::new));
        if (importCa) {
            keytool("-importcert", "-noprompt", "-alias", "ca-" + ca, "-file", file(ca + ".pem"), "-keystore", file(name + ".p12"));
        }
        keytool("-importcert", "-alias", "leaf", "-file", file(name + ".crt"), "-keystore", file(name + ".p12"));
    }

    private void keytool(String... args) {
        Keytool.run(PASSWORD, args);
    }
}
