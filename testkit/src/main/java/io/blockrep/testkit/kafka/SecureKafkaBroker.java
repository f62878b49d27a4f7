package io.blockrep.testkit.kafka;

import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import io.blockrep.testkit.tls.Keytool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An embedded broker with secure client listeners, for the tests of Kafka security pass-through:
 * {@code SSL} with mutual TLS (the client must present a certificate the broker trusts) and
 * {@code SASL_SSL} with the PLAIN mechanism, beside the usual PLAINTEXT listener (which the broker
 * also uses internally, and tests may use to look at topics). The certificates are made with the
 * JDK's {@code keytool} in the given directory at start: a self-signed broker certificate for
 * {@code localhost} / {@code 127.0.0.1} and a self-signed client certificate {@code CN=client},
 * each trusted by the other side through a PKCS12 truststore. Valid for two days.
 *
 * <p>The default broker of {@link KafkaBrokerExtension} is not affected; a test class starts this
 * one itself (in {@code @BeforeAll}) and closes it. It is always embedded, also under {@code -Pdocker}:
 * the container flavour has no TLS or SASL listeners, so the security tests keep this broker.
 *
 * <p>Thread-safe as {@link EmbeddedKafka} is.
 */
public final class SecureKafkaBroker implements AutoCloseable {
    /** The SASL PLAIN user the broker knows, and its password. */
    public static final String SASL_USER = "blockrep";
    public static final String SASL_PASSWORD = "sasl-password-for-tests";
    private static final String STORE_PASSWORD = "store-password-for-tests";

    private final Path certs;
    private final EmbeddedKafka kafka;

    private SecureKafkaBroker(Path certs, EmbeddedKafka kafka) {
        this.certs = certs;
        this.kafka = kafka;
    }

    /** Makes the certificates in {@code dir/certs} and starts the broker with its data in {@code dir/kafka}. */
    public static SecureKafkaBroker start(Path dir) throws IOException {
        Path certs = Files.createDirectories(dir.resolve("certs"));
        makeCertificates(certs);
        EmbeddedKafkaConfig.Builder b = EmbeddedKafkaConfig.builder(dir.resolve("kafka"))
                .secureListener("SSL", 0)
                .secureListener("SASL_SSL", 0);
        for (String listener : List.of("ssl", "sasl_ssl")) {
            String p = "listener.name." + listener + ".";
            b.property(p + "ssl.keystore.location", certs.resolve("broker.p12").toString())
                    .property(p + "ssl.keystore.password", STORE_PASSWORD)
                    .property(p + "ssl.key.password", STORE_PASSWORD)
                    .property(p + "ssl.keystore.type", "PKCS12")
                    .property(p + "ssl.truststore.location", certs.resolve("broker-truststore.p12").toString())
                    .property(p + "ssl.truststore.password", STORE_PASSWORD)
                    .property(p + "ssl.truststore.type", "PKCS12");
        }
        b.property("listener.name.ssl.ssl.client.auth", "required")
                .property("sasl.enabled.mechanisms", "PLAIN")
                .property("listener.name.sasl_ssl.sasl.enabled.mechanisms", "PLAIN")
                .property("listener.name.sasl_ssl.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " user_" + SASL_USER + "=\"" + SASL_PASSWORD + "\";");
        EmbeddedKafka kafka = new EmbeddedKafka(b.build());
        kafka.start();
        return new SecureKafkaBroker(certs, kafka);
    }

    private static void makeCertificates(Path certs) {
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", path(certs, "broker.p12"));
        keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", path(certs, "broker.p12"), "-file", path(certs, "broker.crt"));
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", path(certs, "broker.crt"),
                "-keystore", path(certs, "client-truststore.p12"));
        keytool("-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=client", "-keystore", path(certs, "client.p12"));
        keytool("-exportcert", "-rfc", "-alias", "client", "-keystore", path(certs, "client.p12"), "-file", path(certs, "client.crt"));
        keytool("-importcert", "-noprompt", "-alias", "client", "-file", path(certs, "client.crt"),
                "-keystore", path(certs, "broker-truststore.p12"));
    }

    private static String path(Path certs, String name) {
        return certs.resolve(name).toString();
    }

    private static void keytool(String... args) {
        Keytool.run(STORE_PASSWORD, args);
    }

    /** The PLAINTEXT listener, for looking at topics. */
    public String plaintextBootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String sslBootstrapServers() {
        return kafka.bootstrapServers("SSL");
    }

    public String saslSslBootstrapServers() {
        return kafka.bootstrapServers("SASL_SSL");
    }

    /** Client settings (without bootstrap servers) for the SSL listener: the truststore and the client's keystore. */
    public Map<String, String> sslClientSettings() {
        Map<String, String> m = new LinkedHashMap<>(trust());
        m.put("security.protocol", "SSL");
        m.put("ssl.keystore.location", path(certs, "client.p12"));
        m.put("ssl.keystore.password", STORE_PASSWORD);
        m.put("ssl.key.password", STORE_PASSWORD);
        m.put("ssl.keystore.type", "PKCS12");
        return m;
    }

    /** Client settings (without bootstrap servers) for the SASL_SSL listener: the truststore and the PLAIN login. */
    public Map<String, String> saslSslClientSettings() {
        Map<String, String> m = new LinkedHashMap<>(trust());
        m.put("security.protocol", "SASL_SSL");
        m.put("sasl.mechanism", "PLAIN");
        m.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + SASL_USER
                + "\" password=\"" + SASL_PASSWORD + "\";");
        return m;
    }

    private Map<String, String> trust() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ssl.truststore.location", path(certs, "client-truststore.p12"));
        m.put("ssl.truststore.password", STORE_PASSWORD);
        m.put("ssl.truststore.type", "PKCS12");
        return m;
    }

    @Override
    public void close() {
        kafka.close();
    }
}
