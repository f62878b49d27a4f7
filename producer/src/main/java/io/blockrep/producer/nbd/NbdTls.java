package io.blockrep.producer.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the NBD server, negotiated with NBD_OPT_STARTTLS: the server's key and certificate, and
 * optionally a truststore, in which case every client must present a certificate it verifies, and
 * an allow-list of client certificates (subject CN, or {@code sha256:} fingerprint of the DER).
 * With {@link #required()} a client that has not started TLS gets NBD_REP_ERR_TLS_REQD for every
 * option. Immutable and thread-safe; {@link #handshake} runs on a connection's reader thread.
 */
public final class NbdTls {
    /** Where the credentials are. Passwords may be null for an unprotected store; truststore null = no client certificates asked. */
    public record Settings(Path keystore, String keystorePassword, Path truststore, String truststorePassword,
                           boolean require, List<String> allowedClients) {
        public Settings {
            allowedClients = allowedClients == null ? List.of() : List.copyOf(allowedClients);
        }

        @Override
        public String toString() {
            return "NbdTls.Settings[keystore=" + keystore + ", truststore=" + truststore + ", require=" + require
                    + ", allowedClients=" + allowedClients + "]";
        }
    }

    private final SSLContext context;
    private final boolean require;
    private final boolean clientCertificates;
    private final List<String> allowedClients;

    private NbdTls(SSLContext context, Settings settings) {
        this.context = context;
        this.require = settings.require();
        this.clientCertificates = settings.truststore() != null;
        this.allowedClients = settings.allowedClients().stream().map(NbdTls::normalise).toList();
    }

    /** Loads the keystore (PKCS12 or JKS) and the truststore (PKCS12, JKS, or PEM certificates). */
    public static NbdTls load(Settings settings) throws IOException, GeneralSecurityException {
        if (!settings.allowedClients().isEmpty() && settings.truststore() == null) {
            throw new GeneralSecurityException("an allow-list of NBD clients needs a truststore to verify their certificates");
        }
        char[] keyPassword = password(settings.keystorePassword());
        KeyStore keys = KeyStore.getInstance(settings.keystore().toFile(), keyPassword);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, keyPassword);
        TrustManagerFactory tmf = null;
        if (settings.truststore() != null) {
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore(settings.truststore(), password(settings.truststorePassword())));
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        return new NbdTls(context, settings);
    }

    private static char[] password(String p) {
        return p == null ? new char[0] : p.toCharArray();
    }

    private static KeyStore trustStore(Path file, char[] password) throws IOException, GeneralSecurityException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".pem") && !name.endsWith(".crt")) {
            return KeyStore.getInstance(file.toFile(), password);
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(file)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
        }
        if (store.size() == 0) {
            throw new GeneralSecurityException("no certificate in " + file);
        }
        return store;
    }

    boolean required() {
        return require;
    }

    /**
     * Runs the server side of the TLS handshake over {@code raw} (which has no unread plain-text
     * bytes) and checks the client's certificate against the allow-list. Bounded by the
     * connection's handshake deadline (the watchdog closes the raw socket).
     */
    SSLSocket handshake(SocketChannel raw) throws IOException {
        InetSocketAddress remote = (InetSocketAddress) raw.getRemoteAddress();
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(raw.socket(), remote.getHostString(), remote.getPort(), true);
        socket.setUseClientMode(false);
        socket.setNeedClientAuth(clientCertificates);
        socket.startHandshake();
        if (!allowedClients.isEmpty()) {
            checkAllowed(socket);
        }
        return socket;
    }

    private void checkAllowed(SSLSocket socket) throws IOException {
        X509Certificate cert;
        try {
            cert = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        } catch (SSLPeerUnverifiedException e) {
            throw new IOException("no client certificate, and producer.nbd.tls.allowed.clients is set", e);
        }
        String cn = commonName(cert);
        String fingerprint = fingerprint(cert);
        if (!allowedClients.contains(normalise(cn)) && !allowedClients.contains(fingerprint)) {
            throw new IOException("client certificate CN=" + cn + " (" + fingerprint + ") is not in producer.nbd.tls.allowed.clients");
        }
    }

    static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            return "";
        }
        return "";
    }

    static String fingerprint(X509Certificate cert) throws IOException {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot fingerprint the client certificate", e);
        }
    }

    /** A CN as given, or a fingerprint in lower case without colons. */
    private static String normalise(String entry) {
        String e = entry.trim();
        if (e.regionMatches(true, 0, "sha256:", 0, 7)) {
            return "sha256:" + e.substring(7).replace(":", "").toLowerCase(Locale.ROOT);
        }
        return e;
    }

    @Override
    public String toString() {
        return "TLS " + (require ? "required" : "optional") + (clientCertificates ? ", client certificates required" : "")
                + (allowedClients.isEmpty() ? "" : ", " + allowedClients.size() + " allowed clients");
    }
}
