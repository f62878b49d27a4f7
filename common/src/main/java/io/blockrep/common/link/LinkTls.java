package io.blockrep.common.link;

import io.blockrep.common.FatalException;
import io.blockrep.common.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Mutual TLS for the replication link, under the HMAC challenge (which runs unchanged inside the
 * TLS session): both sides present a certificate from their keystore and check the other's against
 * their truststore, a list of pinned SHA-256 fingerprints, or both. The connecting side also checks
 * the server's name against the address it dialled (hostname verification) unless that is off;
 * when {@link Settings#checkNodeId()} is set, each side checks that the peer's certificate names
 * (CN or a DNS SAN) the node id the peer authenticated with.
 *
 * <p>Blocking sockets: {@link #client} wraps a connected socket and runs the TLS handshake on the
 * caller's thread (bounded by the socket's read timeout); {@link #server} does the same in server
 * mode on the connection's own thread. Immutable and thread-safe once built.
 */
public final class LinkTls {
    /**
     * TLS settings as configured ({@code <service>.link.tls.*}).
     *
     * @param peerFingerprints SHA-256 fingerprints (hex, colons optional) of the peer certificates accepted;
     *                         empty = any certificate the truststore validates
     */
    public record Settings(Path keystore, String keystorePassword, String keystoreType, Path truststore, String truststorePassword,
                           String truststoreType, boolean hostnameVerification, List<String> peerFingerprints, boolean checkNodeId) {
        public Settings {
            peerFingerprints = peerFingerprints == null ? List.of() : List.copyOf(peerFingerprints);
        }

        @Override
        public String toString() {
            return "LinkTls.Settings[keystore=" + keystore + ", truststore=" + truststore + ", hostnameVerification="
                    + hostnameVerification + ", pinned=" + peerFingerprints.size() + ", checkNodeId=" + checkNodeId + "]";
        }
    }

    /** The key, under a service's {@code <service>.link.tls.} prefix, that turns TLS on; the others are named in {@link #settings}. */
    public static final String ENABLED = "enabled";

    private final Settings settings;
    private final SSLContext context;
    private final Set<String> pins;

    private LinkTls(Settings settings, SSLContext context, Set<String> pins) {
        this.settings = settings;
        this.context = context;
        this.pins = pins;
    }

    /** Loads the keystores and builds the context; a file that is missing, unreadable or has a wrong password is fatal. */
    public static LinkTls of(Settings s) {
        try {
            KeyStore keys = load(s.keystore(), s.keystorePassword(), s.keystoreType());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, s.keystorePassword().toCharArray());
            Set<String> pins = s.peerFingerprints().stream().map(LinkTls::normalise).collect(Collectors.toUnmodifiableSet());
            X509TrustManager pkix = null;
            if (s.truststore() != null) {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(s.truststore(), s.truststorePassword(), s.truststoreType()));
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509TrustManager x) {
                        pkix = x;
                    }
                }
            } else if (pins.isEmpty()) {
                throw new FatalException("link TLS needs a truststore or pinned peer fingerprints to check the peer's certificate");
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), new TrustManager[] {new PinningTrustManager(pkix, pins)}, null);
            return new LinkTls(s, context, pins);
        } catch (GeneralSecurityException | IOException e) {
            throw new FatalException("link TLS: cannot load the keystore " + s.keystore() + " / truststore " + s.truststore() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The settings under {@code prefix} (e.g. {@code producer.link.tls.}), or null when TLS is off. */
    public static Settings settings(Config c, String prefix) {
        if (!c.getBoolean(prefix + ENABLED)) {
            return null;
        }
        return new Settings(c.getPath(prefix + "keystore"), c.getString(prefix + "keystore.password"),
                c.getString(prefix + "keystore.type"), c.getPath(prefix + "truststore"), c.getString(prefix + "truststore.password"),
                c.getString(prefix + "truststore.type"), c.getBoolean(prefix + "hostname.verification"),
                c.getList(prefix + "peer.fingerprints"), c.getBoolean(prefix + "check.node.id"));
    }

    /** Rules across the TLS keys under {@code prefix}, for a config's cross-checks. */
    public static List<String> problems(Config c, String prefix) {
        List<String> problems = new ArrayList<>();
        if (!Boolean.TRUE.equals(c.get(prefix + ENABLED))) {
            return problems;
        }
        for (String required : List.of("keystore", "keystore.password")) {
            if (!c.isSet(prefix + required)) {
                problems.add(prefix + required + ": required when " + prefix + ENABLED + " is true");
            }
        }
        List<?> pins = (List<?>) c.get(prefix + "peer.fingerprints");
        if (!c.isSet(prefix + "truststore") && (pins == null || pins.isEmpty())) {
            problems.add(prefix + "truststore: required when " + prefix + ENABLED + " is true and no "
                    + prefix + "peer.fingerprints are pinned");
        }
        if (c.isSet(prefix + "truststore") && !c.isSet(prefix + "truststore.password")) {
            problems.add(prefix + "truststore.password: required with " + prefix + "truststore");
        }
        return problems;
    }

    /** The regex a fingerprint must match: 32 bytes in hex, colons between bytes allowed. */
    public static final String FINGERPRINT_REGEX = "([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}";

    /**
     * Runs the client side of the TLS handshake over the connected {@code plain} socket, whose read
     * timeout bounds it; {@code host} is what hostname verification checks the server's certificate against.
     */
    public SSLSocket client(Socket plain, String host, int port) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
        s.setUseClientMode(true);
        if (settings.hostnameVerification() && pins.isEmpty()) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
        }
        s.startHandshake();
        return s;
    }

    /**
     * Runs the server side of the TLS handshake over an accepted socket, demanding a client
     * certificate; {@code consumed} holds bytes already read from it (the first bytes the server
     * peeked at to tell a plaintext link client from a TLS one).
     */
    public SSLSocket server(Socket plain, InputStream consumed) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, consumed, true);
        s.setUseClientMode(false);
        s.setNeedClientAuth(true);
        s.startHandshake();
        return s;
    }

    /**
     * When {@link Settings#checkNodeId()} is set: the peer's certificate on {@code socket} must name
     * {@code nodeId} (its CN or one of its DNS SANs).
     */
    public void checkPeerNodeId(SSLSocket socket, String nodeId) throws LinkProtocolException {
        if (!settings.checkNodeId()) {
            return;
        }
        X509Certificate cert;
        try {
            cert = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        } catch (SSLPeerUnverifiedException e) {
            throw new LinkProtocolException(LinkStatus.AUTH_FAILED, "the peer presented no verified certificate");
        }
        List<String> names = names(cert);
        if (!names.contains(nodeId)) {
            throw new LinkProtocolException(LinkStatus.AUTH_FAILED, "the peer authenticated as node '" + nodeId
                    + "' but its certificate names " + names + " (check.node.id)");
        }
    }

    /** The certificate's CN and DNS subject alternative names. */
    static List<String> names(X509Certificate cert) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    names.add(rdn.getValue().toString());
                }
            }
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        names.add(san.get(1).toString());
                    }
                }
            }
        } catch (InvalidNameException | CertificateParsingException e) {
            // an unparsable name matches nothing
        }
        return List.copyOf(names);
    }

    /** SHA-256 of the certificate's DER encoding, lower-case hex without separators. */
    public static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private static String normalise(String fingerprint) {
        return fingerprint.replace(":", "").toLowerCase(Locale.ROOT);
    }

    private static KeyStore load(Path file, String password, String type) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(type == null ? "PKCS12" : type);
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password == null ? null : password.toCharArray());
        }
        return ks;
    }

    /**
     * Trusts a peer chain the truststore validates (when there is one) whose leaf is pinned (when
     * pins are set); with pins and no truststore, exactly the pinned certificates, within their
     * validity dates. Hostname verification stays with the JDK's trust manager, which this delegates to.
     */
    private static final class PinningTrustManager extends javax.net.ssl.X509ExtendedTrustManager {
        private final javax.net.ssl.X509ExtendedTrustManager pkix;
        private final Set<String> pins;

        PinningTrustManager(X509TrustManager pkix, Set<String> pins) {
            this.pkix = (javax.net.ssl.X509ExtendedTrustManager) pkix;
            this.pins = pins;
        }

        private void pinned(X509Certificate[] chain) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the peer presented no certificate");
            }
            if (pkix == null) {
                chain[0].checkValidity();
            }
            if (!pins.isEmpty() && !pins.contains(fingerprint(chain[0]))) {
                throw new CertificateException("the peer's certificate " + chain[0].getSubjectX500Principal() + " (SHA-256 "
                        + fingerprint(chain[0]) + ") is not one of the pinned peer.fingerprints");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            if (pkix != null) {
                pkix.checkClientTrusted(chain, authType, socket);
            }
            pinned(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            if (pkix != null) {
                pkix.checkServerTrusted(chain, authType, socket);
            }
            pinned(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                throws CertificateException {
            if (pkix != null) {
                pkix.checkClientTrusted(chain, authType, engine);
            }
            pinned(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
                throws CertificateException {
            if (pkix != null) {
                pkix.checkServerTrusted(chain, authType, engine);
            }
            pinned(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (pkix != null) {
                pkix.checkClientTrusted(chain, authType);
            }
            pinned(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (pkix != null) {
                pkix.checkServerTrusted(chain, authType);
            }
            pinned(chain);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix == null ? new X509Certificate[0] : pkix.getAcceptedIssuers();
        }
    }
}
