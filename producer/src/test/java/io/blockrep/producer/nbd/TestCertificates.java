package io.blockrep.producer.nbd;

import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.ExternalCommand.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Certificates for TLS tests, made with {@code openssl} in a directory: a CA, a server keystore
 * (PKCS12, for the Java server) and client directories in the layout gnutls clients (libnbd's
 * {@code tls-certificates=DIR}, qemu's {@code tls-creds-x509}) read: {@code ca-cert.pem}, and for
 * client authentication {@code client-cert.pem} and {@code client-key.pem}.
 */
final class TestCertificates {
    static final String KEYSTORE_PASSWORD = "test-keystore-pw";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Makes a CA named {@code caName} and a server certificate for 127.0.0.1/localhost signed by it. */
    static TestCertificates create(Path dir, String caName) throws IOException {
        ExternalCommand.requireTool("openssl", "openssl");
        Files.createDirectories(dir);
        TestCertificates certs = new TestCertificates(dir);
        certs.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + caName,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", certs.path("ca-key.pem"), "-out", certs.path("ca-cert.pem"));
        certs.leaf("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        certs.openssl("pkcs12", "-export", "-in", certs.path("server-cert.pem"), "-inkey", certs.path("server-key.pem"),
                "-certfile", certs.path("ca-cert.pem"), "-name", "nbd", "-passout", "pass:" + KEYSTORE_PASSWORD,
                "-out", certs.path("server.p12"));
        return certs;
    }

    Path caCert() {
        return dir.resolve("ca-cert.pem");
    }

    Path serverKeystore() {
        return dir.resolve("server.p12");
    }

    /** A gnutls client directory with only the CA certificate: verifies the server, presents no certificate. */
    Path anonymousClientDir(String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.copy(caCert(), d.resolve("ca-cert.pem"));
        return d;
    }

    /** A gnutls client directory whose client certificate has CN {@code cn}, signed by {@code issuer}'s CA; the server is verified with this CA. */
    Path clientDir(String cn, TestCertificates issuer) throws IOException {
        Path d = anonymousClientDir("client-" + cn + "-" + issuer.dir.getFileName());
        issuer.leaf("client-" + cn, cn, "extendedKeyUsage=clientAuth\n");
        Files.copy(issuer.dir.resolve("client-" + cn + "-cert.pem"), d.resolve("client-cert.pem"));
        Files.copy(issuer.dir.resolve("client-" + cn + "-key.pem"), d.resolve("client-key.pem"));
        return d;
    }

    private void leaf(String name, String cn, String extensions) throws IOException {
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions);
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", path(name + "-key.pem"),
                "-out", path(name + ".csr"));
        openssl("x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca-cert.pem"), "-CAkey", path("ca-key.pem"),
                "-CAcreateserial", "-days", "2", "-extfile", ext.toString(), "-out", path(name + "-cert.pem"));
    }

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Result r = ExternalCommand.run(TIMEOUT, command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(r.describe());
        }
    }
}
