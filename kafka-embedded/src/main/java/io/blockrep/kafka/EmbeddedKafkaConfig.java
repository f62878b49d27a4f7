package io.blockrep.kafka;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of an {@link EmbeddedKafka} broker.
 *
 * @param dataDir          log and metadata directory; formatted on first start, reused afterwards
 * @param brokerPort       PLAINTEXT listener port, 0 = pick a free one at first start
 * @param controllerPort   CONTROLLER listener port, 0 = pick a free one at first start
 * @param host             the one address both listeners bind to (default 127.0.0.1)
 * @param extraProperties  broker properties applied last; they override the single-node defaults
 * @param secureListeners  extra client listeners, by security protocol ({@code SSL}, {@code SASL_SSL},
 *                         {@code SASL_PLAINTEXT}) to port (0 = pick a free one at first start); each
 *                         is named after its protocol, so its settings are
 *                         {@code listener.name.<protocol lower-case>.*} extra properties (keystore,
 *                         {@code ssl.client.auth}, SASL JAAS). Empty by default: PLAINTEXT only.
 */
public record EmbeddedKafkaConfig(
        Path dataDir, int brokerPort, int controllerPort, String host, Map<String, String> extraProperties,
        Map<String, Integer> secureListeners) {

    /** The protocols a secure listener may use. */
    public static final java.util.Set<String> SECURE_PROTOCOLS = java.util.Set.of("SSL", "SASL_SSL", "SASL_PLAINTEXT");

    public static final String DEFAULT_HOST = "127.0.0.1";

    public EmbeddedKafkaConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(host, "host");
        checkPort("brokerPort", brokerPort);
        checkPort("controllerPort", controllerPort);
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (brokerPort != 0 && brokerPort == controllerPort) {
            throw new IllegalArgumentException("brokerPort and controllerPort must differ: " + brokerPort);
        }
        extraProperties = Map.copyOf(extraProperties);
        secureListeners = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(secureListeners));
        secureListeners.forEach((protocol, port) -> {
            if (!SECURE_PROTOCOLS.contains(protocol)) {
                throw new IllegalArgumentException("secure listener protocol must be one of " + SECURE_PROTOCOLS + ", was " + protocol);
            }
            checkPort(protocol + " port", port);
        });
    }

    /** As before secure listeners existed: PLAINTEXT only. */
    public EmbeddedKafkaConfig(Path dataDir, int brokerPort, int controllerPort, String host, Map<String, String> extraProperties) {
        this(dataDir, brokerPort, controllerPort, host, extraProperties, Map.of());
    }

    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    private static void checkPort(String name, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be 0..65535, was " + port);
        }
    }

    /** Builder with free ports on 127.0.0.1 and no extra properties. */
    public static final class Builder {
        private final Path dataDir;
        private int brokerPort;
        private int controllerPort;
        private String host = DEFAULT_HOST;
        private final Map<String, String> extraProperties = new LinkedHashMap<>();
        private final Map<String, Integer> secureListeners = new LinkedHashMap<>();

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        }

        public Builder brokerPort(int port) {
            this.brokerPort = port;
            return this;
        }

        public Builder controllerPort(int port) {
            this.controllerPort = port;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** A broker property that overrides the defaults, e.g. {@code log.retention.ms}. */
        public Builder property(String key, String value) {
            extraProperties.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * An extra client listener with {@code protocol} (SSL, SASL_SSL, SASL_PLAINTEXT) on {@code port}
         * (0 = a free one); configure it with {@code listener.name.<protocol lower-case>.*} properties.
         */
        public Builder secureListener(String protocol, int port) {
            secureListeners.put(Objects.requireNonNull(protocol, "protocol"), port);
            return this;
        }

        public EmbeddedKafkaConfig build() {
            return new EmbeddedKafkaConfig(dataDir, brokerPort, controllerPort, host, extraProperties, secureListeners);
        }
    }
}
