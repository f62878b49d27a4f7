package io.blockrep.testkit.tls;

import io.blockrep.common.link.LinkCertificates;
import io.blockrep.common.link.LinkTls;
import java.nio.file.Path;
import java.util.List;

/**
 * Certificates a test makes in its own temporary directory with the JDK's keytool: one authority,
 * leaves it signs (valid, or expired), and its truststore. Nothing here is ever committed: every
 * key is made at test time. Every leaf names its CN and {@code dns:<name>}, {@code dns:localhost}
 * and {@code ip:127.0.0.1}, so hostname verification passes on loopback.
 */
public final class TestCertificates {
    public static final String PASSWORD = "test-store-password";
    private final Path dir;
    private final LinkCertificates ca;

    private TestCertificates(Path dir, LinkCertificates ca) {
        this.dir = dir;
        this.ca = ca;
    }

    /** A new authority named {@code name}, its files under {@code dir}. */
    public static TestCertificates authority(Path dir, String name) {
        return new TestCertificates(dir, LinkCertificates.authority(dir.resolve(name + "-ca.p12"), name, PASSWORD, 30));
    }

    /** A keystore for {@code name}, signed by this authority, valid from now for 30 days. */
    public Path leaf(String name) {
        return ca.leaf(name, sans(name), dir.resolve(ca.name() + "-" + name + ".p12"), PASSWORD, null, 30);
    }

    /** A keystore for {@code name} whose certificate expired a day ago (valid for one day from three days ago). */
    public Path expiredLeaf(String name) {
        return ca.leaf(name, sans(name), dir.resolve(ca.name() + "-" + name + "-expired.p12"), PASSWORD, "-3d", 1);
    }

    /** A truststore holding only this authority's certificate. */
    public Path truststore() {
        return ca.truststore(dir.resolve(ca.name() + "-trust.p12"), PASSWORD);
    }

    /** TLS settings with {@code keystore}, this authority's truststore and hostname verification. */
    public LinkTls.Settings settings(Path keystore) {
        return new LinkTls.Settings(keystore, PASSWORD, "PKCS12", truststore(), PASSWORD, "PKCS12", true, List.of(), false);
    }

    private static List<String> sans(String name) {
        return List.of("dns:" + name, "dns:localhost", "ip:127.0.0.1");
    }
}
