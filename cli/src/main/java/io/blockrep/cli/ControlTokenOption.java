package io.blockrep.cli;

import io.blockrep.common.config.ControlTls;
import io.blockrep.common.config.ControlToken;
import io.blockrep.replayer.service.FacilityClient;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The control API credentials a verb sends (see the README's "Security" section).
 *
 * <p>{@code --token-file}: without it, the {@code BLOCKREP_CONTROL_TOKEN} environment variable holds the
 * token itself; without either no token is sent, which is what a facility on loopback with no token
 * configured expects.
 *
 * <p>{@code --tls-keystore} / {@code --tls-truststore} (else {@code BLOCKREP_CONTROL_TLS_KEYSTORE} /
 * {@code BLOCKREP_CONTROL_TLS_TRUSTSTORE}): either one given makes the verb speak HTTPS, presenting the key
 * store's client certificate and trusting the facility's certificate when it chains to the trust store (else
 * the JDK's default trust) and names the {@code --control} host. Passwords come only from the environment
 * ({@code BLOCKREP_CONTROL_TLS_KEYSTORE_PASSWORD}, {@code BLOCKREP_CONTROL_TLS_TRUSTSTORE_PASSWORD}), never
 * the command line, where other users could read them. The store type follows the file name: {@code .pem} is
 * PEM, {@code .jks} JKS, anything else PKCS12.
 */
final class ControlTokenOption {
    static final String ENV = "BLOCKREP_CONTROL_TOKEN";
    static final String KEYSTORE_ENV = "BLOCKREP_CONTROL_TLS_KEYSTORE";
    static final String TRUSTSTORE_ENV = "BLOCKREP_CONTROL_TLS_TRUSTSTORE";

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the control API token (the facility's producer.control.token.file, or its read token for"
                    + " status); default: the " + ENV + " environment variable, else none.")
    Path tokenFile;

    @Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "HTTPS to the control API, with the client certificate and key in FILE (PKCS12; .pem: PEM, .jks: JKS);"
                    + " password in " + KEYSTORE_ENV + "_PASSWORD; default: " + KEYSTORE_ENV + ".")
    Path tlsKeystore;

    @Option(names = "--tls-truststore", paramLabel = "FILE",
            description = "HTTPS to the control API, trusting the facility's certificate when it chains to a CA in FILE;"
                    + " password in " + TRUSTSTORE_ENV + "_PASSWORD; default: " + TRUSTSTORE_ENV + ", else the JDK's trust store.")
    Path tlsTruststore;

    /** The token to send, or null for none. */
    String token() {
        return token(System.getenv());
    }

    String token(Map<String, String> env) {
        if (tokenFile != null) {
            return ControlToken.read("--token-file", tokenFile);
        }
        String value = env.get(ENV);
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** The TLS settings given, or null for plain HTTP. */
    ControlTls tls(Map<String, String> env) {
        ControlTls.Store key = store(tlsKeystore, env, KEYSTORE_ENV);
        ControlTls.Store trust = store(tlsTruststore, env, TRUSTSTORE_ENV);
        return key == null && trust == null ? null : new ControlTls(key, trust);
    }

    ControlTls tls() {
        return tls(System.getenv());
    }

    /** The client of the facility at {@code control} with the token and TLS settings given. */
    FacilityClient client(String control) {
        return FacilityClient.of(control, token()).withTls(tls());
    }

    private static ControlTls.Store store(Path option, Map<String, String> env, String envName) {
        String fromEnv = env.get(envName);
        Path path = option != null ? option : fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv.strip());
        if (path == null) {
            return null;
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        String type = name.endsWith(".pem") ? "PEM" : name.endsWith(".jks") ? "JKS" : "PKCS12";
        return new ControlTls.Store(path, env.get(envName + "_PASSWORD"), type);
    }
}
