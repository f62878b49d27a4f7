package io.blockrep.common.config;

import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The key material of one end of a TLS control-API connection: a key store holding this end's certificate
 * and private key, and a trust store holding the CA certificates the other end's certificate must chain
 * to. The facility uses it as a server that requires a client certificate ({@code producer.control.tls.*});
 * the replayer and the CLI verbs as clients ({@code replayer.control.tls.*}, {@code --tls-keystore},
 * {@code --tls-truststore}), with the JDK's hostname verification.
 *
 * <p>Store types: {@code PKCS12} (the default, what {@code keytool} makes), {@code JKS}, and {@code PEM}: a
 * key store is then one file with an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}) and its
 * certificate chain, leaf first; a trust store a file of one or more certificates. Either store may be
 * null: no client certificate is offered, or the JDK's default trust store is used.
 *
 * <p>Immutable and thread-safe; the files are read by {@link #sslContext()} and {@link #problems}, not
 * when the record is made.
 */
public record ControlTls(Store keyStore, Store trustStore) {
    /** Protocols offered and accepted: nothing older than TLS 1.2. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final List<String> TYPES = List.of("PKCS12", "JKS", "PEM");

    /** A key or trust store file; {@code password} may be null (PEM, or a PKCS12 trust store read without one). */
    public record Store(Path path, String password, String type) {
        public Store {
            type = type == null ? "PKCS12" : type.toUpperCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return type + ":" + path + (password == null ? "" : " (password ***)");
        }
    }

    /**
     * The settings under {@code prefix} ({@code producer.control.tls.}, {@code replayer.control.tls.}): {@code enabled},
     * {@code keystore.path|password|type}, {@code truststore.path|password|type}; null when not enabled.
     */
    public static ControlTls fromConfig(Config c, String prefix) {
        if (!Boolean.TRUE.equals(c.get(prefix + "enabled"))) {
            return null;
        }
        return new ControlTls(store(c, prefix + "keystore."), store(c, prefix + "truststore."));
    }

    private static Store store(Config c, String prefix) {
        Path path = (Path) c.get(prefix + "path");
        return path == null ? null : new Store(path, (String) c.get(prefix + "password"), (String) c.get(prefix + "type"));
    }

    /**
     * The problems of the settings under {@code prefix}: with TLS enabled a key store is required (the facility's
     * certificate; a client's certificate, which the facility requires), and on the facility ({@code server}) a trust
     * store (the CA of the client certificates) as well; both must load.
     */
    public static List<String> configProblems(Config c, String prefix, boolean server) {
        List<String> problems = new ArrayList<>();
        if (!Boolean.TRUE.equals(c.get(prefix + "enabled"))) {
            return problems;
        }
        if (c.get(prefix + "keystore.path") == null) {
            problems.add(prefix + "keystore.path: required with " + prefix + "enabled=true ("
                    + (server ? "the facility's certificate and private key" : "the client certificate the facility requires") + ")");
        }
        if (server && c.get(prefix + "truststore.path") == null) {
            problems.add(prefix + "truststore.path: required with " + prefix + "enabled=true (the CA certificates that clients'"
                    + " certificates must chain to)");
        }
        ControlTls tls = fromConfig(c, prefix);
        if (tls != null) {
            problems.addAll(tls.problems(prefix));
        }
        return problems;
    }

    /** SSL parameters of this side: TLS 1.3 and 1.2 only; {@code requireClientCertificate} for the facility's server. */
    public static SSLParameters parameters(SSLContext context, boolean requireClientCertificate) {
        SSLParameters p = context.getDefaultSSLParameters();
        p.setProtocols(PROTOCOLS.toArray(String[]::new));
        p.setNeedClientAuth(requireClientCertificate);
        return p;
    }

    /** Told when the trust store refuses a peer's certificate chain (expired, unknown CA, ...); called on the handshaking thread. */
    @FunctionalInterface
    public interface RefusalListener {
        void refused(X509Certificate[] chain, String peerHost, CertificateException reason);
    }

    /** A TLS context with this key and trust material; an {@link InvalidInputException} (exit 78) when a store is unusable. */
    public SSLContext sslContext() {
        return sslContext(null);
    }

    /** Like {@link #sslContext()}; {@code onRefusedClient} (null = none) is told of every client certificate the trust store refuses. */
    public SSLContext sslContext(RefusalListener onRefusedClient) {
        try {
            KeyManagerFactory kmf = null;
            if (keyStore != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(load(keyStore, true), keyPassword(keyStore));
            }
            TrustManagerFactory tmf = null;
            if (trustStore != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(trustStore, false));
            }
            SSLContext context = SSLContext.getInstance("TLS");
            TrustManager[] trust = tmf == null ? null : tmf.getTrustManagers();
            if (trust != null && onRefusedClient != null) {
                for (int i = 0; i < trust.length; i++) {
                    if (trust[i] instanceof X509ExtendedTrustManager x) {
                        trust[i] = new TellingTrustManager(x, onRefusedClient);
                    }
                }
            }
            context.init(kmf == null ? null : kmf.getKeyManagers(), trust, null);
            return context;
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw InvalidInputException.config(List.of("TLS key material (" + this + ") is unusable: " + e.getMessage()));
        }
    }

    /**
     * What is wrong with the stores, each problem naming the key it comes from ({@code prefix} + {@code keystore...}
     * or {@code truststore...}); empty when both load and the key store has a private key and the trust store a
     * certificate.
     */
    public List<String> problems(String prefix) {
        List<String> problems = new ArrayList<>();
        if (keyStore != null) {
            try {
                KeyStore ks = load(keyStore, true);
                boolean anyKey = false;
                for (String alias : Collections.list(ks.aliases())) {
                    anyKey |= ks.isKeyEntry(alias);
                }
                if (!anyKey) {
                    problems.add(prefix + "keystore.path: " + keyStore.path() + " holds no private key (this side's certificate and key)");
                } else {
                    KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm()).init(ks, keyPassword(keyStore));
                }
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                problems.add(prefix + "keystore.path: cannot read the " + keyStore.type() + " key store " + keyStore.path() + " ("
                        + e.getMessage() + "; wrong " + prefix + "keystore.password or .type?)");
            }
        }
        if (trustStore != null) {
            try {
                KeyStore ts = load(trustStore, false);
                boolean anyCertificate = false;
                for (String alias : Collections.list(ts.aliases())) {
                    anyCertificate |= ts.isCertificateEntry(alias);
                }
                if (!anyCertificate) {
                    problems.add(prefix + "truststore.path: " + trustStore.path() + " holds no trusted certificate (the CA of the other side)");
                }
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                problems.add(prefix + "truststore.path: cannot read the " + trustStore.type() + " trust store " + trustStore.path() + " ("
                        + e.getMessage() + "; wrong " + prefix + "truststore.password or .type?)");
            }
        }
        return problems;
    }

    /** Delegates every check; tells its listener of a refused client chain before the handshake fails. */
    private static final class TellingTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final RefusalListener listener;

        TellingTrustManager(X509ExtendedTrustManager delegate, RefusalListener listener) {
            this.delegate = delegate;
            this.listener = listener;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                listener.refused(chain, socket == null ? null : String.valueOf(socket.getRemoteSocketAddress()), e);
                throw e;
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                listener.refused(chain, engine == null ? null : engine.getPeerHost(), e);
                throw e;
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                delegate.checkClientTrusted(chain, authType);
            } catch (CertificateException e) {
                listener.refused(chain, null, e);
                throw e;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    private static char[] keyPassword(Store s) {
        return s.type().equals("PEM") || s.password() == null ? PEM_PASSWORD : s.password().toCharArray();
    }

    /** In-memory key stores made from PEM files hold their key under this password. */
    private static final char[] PEM_PASSWORD = new char[0];

    private static KeyStore load(Store s, boolean withKey) throws IOException, GeneralSecurityException {
        if (!s.type().equals("PEM")) {
            KeyStore ks = KeyStore.getInstance(s.type());
            try (InputStream in = Files.newInputStream(s.path())) {
                ks.load(in, s.password() == null ? null : s.password().toCharArray());
            }
            return ks;
        }
        String text = Files.readString(s.path(), StandardCharsets.US_ASCII);
        List<Certificate> certificates = certificates(text);
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("no BEGIN CERTIFICATE block");
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        if (withKey) {
            ks.setKeyEntry("key", privateKey(text), PEM_PASSWORD, certificates.toArray(Certificate[]::new));
        } else {
            for (int i = 0; i < certificates.size(); i++) {
                ks.setCertificateEntry("ca-" + i, certificates.get(i));
            }
        }
        return ks;
    }

    private static final Pattern PEM_BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private static List<Certificate> certificates(String text) throws GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<Certificate> out = new ArrayList<>();
        Matcher m = PEM_BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                out.add(factory.generateCertificate(new java.io.ByteArrayInputStream(decode(m.group(2)))));
            }
        }
        return out;
    }

    private static PrivateKey privateKey(String text) throws GeneralSecurityException {
        Matcher m = PEM_BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PRIVATE KEY")) {
                PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(decode(m.group(2)));
                for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
                    } catch (GeneralSecurityException e) {
                        // not this algorithm; try the next
                    }
                }
                throw new IllegalArgumentException("the PRIVATE KEY block is not an RSA, EC or EdDSA key");
            }
            if (m.group(1).endsWith("PRIVATE KEY")) {
                throw new IllegalArgumentException("a '" + m.group(1) + "' block: convert it to unencrypted PKCS#8"
                        + " (openssl pkcs8 -topk8 -nocrypt) or use a PKCS12 key store");
            }
        }
        throw new IllegalArgumentException("no BEGIN PRIVATE KEY block (an unencrypted PKCS#8 key)");
    }

    private static byte[] decode(String base64) {
        return Base64.getMimeDecoder().decode(base64);
    }
}
