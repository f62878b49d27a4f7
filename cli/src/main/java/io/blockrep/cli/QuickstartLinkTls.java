package io.blockrep.cli;

import io.blockrep.common.FatalException;
import io.blockrep.common.link.LinkCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

/**
 * The quickstart's link TLS: a throw-away certificate authority and keystores for site-a, site-b and
 * the replayer, made once with the JDK's keytool in {@code <dir>/tls} (directory 0700, files 0600)
 * and reused by later runs. Every certificate names its node (CN and DNS SAN) and loopback
 * ({@code localhost}, {@code 127.0.0.1}), so hostname verification and the node-id check are on.
 */
final class QuickstartLinkTls {
    static final String DIR = "tls";
    static final List<String> NODES = List.of("site-a", "site-b", QuickstartCommand.REPLAYER_ID);
    private final Path dir;
    private final String password;

    private QuickstartLinkTls(Path dir, String password) {
        this.dir = dir;
        this.password = password;
    }

    /** Makes what is missing under {@code base/tls}, or reuses what an earlier run made. */
    static QuickstartLinkTls makeOrReuse(Path base) {
        Path dir = base.resolve(DIR);
        try {
            Files.createDirectories(dir);
            restrict(dir, "rwx------");
            String password = password(dir.resolve("password"));
            LinkCertificates ca = LinkCertificates.authority(dir.resolve("ca.p12"), "blockrep-quickstart-ca", password, 3650);
            for (String node : NODES) {
                Path keystore = dir.resolve(node + ".p12");
                if (!Files.exists(keystore)) {
                    ca.leaf(node, List.of("dns:" + node, "dns:localhost", "ip:127.0.0.1"), keystore, password, null, 3650);
                }
            }
            if (!Files.exists(dir.resolve("truststore.p12"))) {
                ca.truststore(dir.resolve("truststore.p12"), password);
            }
            return new QuickstartLinkTls(dir, password);
        } catch (IOException e) {
            throw new FatalException("cannot make the quickstart's link certificates in " + dir + ": " + e.getMessage(), e);
        }
    }

    Path dir() {
        return dir;
    }

    /** The {@code <prefix>*} keys (producer.link.tls. or replayer.link.tls.) for {@code node}'s side of the link. */
    Properties properties(String node, String prefix) {
        Properties p = new Properties();
        p.setProperty(prefix + "enabled", "true");
        p.setProperty(prefix + "keystore", dir.resolve(node + ".p12").toString());
        p.setProperty(prefix + "keystore.password", password);
        p.setProperty(prefix + "truststore", dir.resolve("truststore.p12").toString());
        p.setProperty(prefix + "truststore.password", password);
        p.setProperty(prefix + "check.node.id", "true");
        return p;
    }

    private static String password(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file).trim();
        }
        byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        String password = HexFormat.of().formatHex(bytes);
        Files.createFile(file);
        restrict(file, "rw-------");
        Files.writeString(file, password + "\n");
        return password;
    }

    private static void restrict(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
