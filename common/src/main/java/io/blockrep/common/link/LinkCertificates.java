package io.blockrep.common.link;

import io.blockrep.common.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes link certificates with the JDK's own {@code keytool} (found under {@code java.home}): a
 * small certificate authority, leaf keystores it signs, and a truststore holding its certificate.
 * For the quickstart and for tests; production certificates come from the operator's own CA.
 *
 * <p>Only key generation and signing run {@code keytool} (one process per certificate); copying a
 * signed leaf into its own keystore and writing the truststore use the {@link KeyStore} API. Every
 * file written is made 0600 (it holds a private key, or is trusted). All stores are PKCS12 with the
 * key password equal to the store password. Not thread-safe: one caller per authority.
 */
public final class LinkCertificates {
    private static final long KEYTOOL_TIMEOUT_SECONDS = 120;
    private final Path caStore;
    private final String caPassword;
    private final String caName;

    private LinkCertificates(Path caStore, String caPassword, String caName) {
        this.caStore = caStore;
        this.caPassword = caPassword;
        this.caName = caName;
    }

    /**
     * The authority whose keystore is {@code caStore}: made (a self-signed CA certificate valid for
     * {@code validityDays}) when the file does not exist, reused when it does.
     */
    public static LinkCertificates authority(Path caStore, String name, String password, int validityDays) {
        if (!Files.exists(caStore)) {
            keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                    "-ext", "bc:c", "-validity", Integer.toString(validityDays), "-keystore", caStore.toString(),
                    "-storetype", "PKCS12", "-storepass", password);
            owner(caStore);
        }
        return new LinkCertificates(caStore, password, name);
    }

    public String name() {
        return caName;
    }

    /** Writes a truststore holding only this authority's certificate. */
    public Path truststore(Path file, String password) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", load(caStore, caPassword).getCertificate("ca"));
            store(trust, file, password);
            return file;
        } catch (GeneralSecurityException | IOException e) {
            throw new FatalException("cannot write the truststore " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code file}, a keystore with a new key for {@code name} and its certificate signed by
     * this authority (the chain includes the CA). {@code sans} are keytool SAN entries such as
     * {@code dns:localhost} or {@code ip:127.0.0.1}; {@code startDate} is keytool's -startdate
     * ({@code -2d}: two days ago) or null for now.
     */
    public Path leaf(String name, List<String> sans, Path file, String password, String startDate, int validityDays) {
        List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + name, "-validity", Integer.toString(validityDays), "-keystore", caStore.toString(),
                "-storetype", "PKCS12", "-storepass", caPassword, "-signer", "ca"));
        if (!sans.isEmpty()) {
            args.addAll(List.of("-ext", "san=" + String.join(",", sans)));
        }
        if (startDate != null) {
            args.addAll(List.of("-startdate", startDate));
        }
        keytool(args.toArray(String[]::new));
        try {
            KeyStore ca = load(caStore, caPassword);
            Key key = ca.getKey(name, caPassword.toCharArray());
            Certificate[] chain = ca.getCertificateChain(name);
            ca.deleteEntry(name);
            store(ca, caStore, caPassword);
            KeyStore leaf = KeyStore.getInstance("PKCS12");
            leaf.load(null, null);
            leaf.setKeyEntry(name, key, password.toCharArray(), chain);
            store(leaf, file, password);
            return file;
        } catch (GeneralSecurityException | IOException e) {
            throw new FatalException("cannot write the keystore " + file + ": " + e.getMessage(), e);
        }
    }

    /** SHA-256 fingerprint (lower-case hex) of the first key entry's certificate in a PKCS12 keystore. */
    public static String fingerprint(Path keystore, String password) {
        try {
            KeyStore ks = load(keystore, password);
            for (String alias : java.util.Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias)) {
                    return LinkTls.fingerprint((X509Certificate) ks.getCertificate(alias));
                }
            }
            throw new FatalException(keystore + " holds no key entry");
        } catch (GeneralSecurityException | IOException e) {
            throw new FatalException("cannot read " + keystore + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Path file, String password) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password.toCharArray());
        }
        return ks;
    }

    private static void store(KeyStore ks, Path file, String password) throws GeneralSecurityException, IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp);
        owner(tmp);
        try (OutputStream out = Files.newOutputStream(tmp)) {
            ks.store(out, password.toCharArray());
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Owner read-write only, where the file system has POSIX permissions. */
    private static void owner(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to narrow
        }
    }

    /** Runs the JDK's keytool; its output is only shown when it fails. */
    private static void keytool(String... args) {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new ArrayList<>(List.of(keytool.toString(), "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new FatalException("keytool " + args[0] + " did not finish within " + KEYTOOL_TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new FatalException("keytool " + args[0] + " failed (exit " + p.exitValue() + "): "
                        + new String(output, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new FatalException("cannot run " + keytool + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FatalException("interrupted while running keytool", e);
        }
    }
}
