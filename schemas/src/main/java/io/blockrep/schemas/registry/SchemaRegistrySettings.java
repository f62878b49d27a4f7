package io.blockrep.schemas.registry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to reach a schema registry with the Confluent REST API (for Apicurio, its {@code /apis/ccompat/v7}
 * base): the base URL, optional basic-auth credentials, optional key store and trust store for TLS
 * (without them the JVM's default {@code javax.net.ssl.*} settings apply), and timeouts. Immutable;
 * build with {@link #builder(String)}.
 */
public final class SchemaRegistrySettings {
    private final URI url;
    private final String username;
    private final String password;
    private final Store trustStore;
    private final Store keyStore;
    private final Duration connectTimeout;
    private final Duration requestTimeout;

    /** A key store or trust store file; type is a {@link java.security.KeyStore} type (PKCS12, JKS). */
    public record Store(Path path, String password, String type) {
        public Store {
            Objects.requireNonNull(path, "path");
            type = type == null || type.isBlank() ? "PKCS12" : type;
        }

        @Override
        public String toString() {
            return "Store[" + path + ", " + type + "]";
        }
    }

    private SchemaRegistrySettings(Builder b) {
        this.url = b.url;
        this.username = b.username;
        this.password = b.password;
        this.trustStore = b.trustStore;
        this.keyStore = b.keyStore;
        this.connectTimeout = b.connectTimeout;
        this.requestTimeout = b.requestTimeout;
    }

    /** Starts settings for the registry at {@code url} (http or https), e.g. {@code http://host:8080/apis/ccompat/v7}. */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    /** The base URL, without a trailing slash. */
    public URI url() {
        return url;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    public boolean basicAuth() {
        return username != null;
    }

    public Store trustStore() {
        return trustStore;
    }

    public Store keyStore() {
        return keyStore;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    @Override
    public String toString() {
        return "SchemaRegistrySettings[url=" + url + ", user=" + username + ", trustStore=" + trustStore + ", keyStore=" + keyStore
                + ", connectTimeout=" + connectTimeout + ", requestTimeout=" + requestTimeout + "]";
    }

    /** Not thread-safe. */
    public static final class Builder {
        private final URI url;
        private String username;
        private String password;
        private Store trustStore;
        private Store keyStore;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(30);

        private Builder(String url) {
            Objects.requireNonNull(url, "url");
            String trimmed = url.strip();
            while (trimmed.endsWith("/")) {
                trimmed = trimmed.substring(0, trimmed.length() - 1);
            }
            URI u = URI.create(trimmed);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("schema registry URL must be http://HOST[:PORT]/... or https://..., not " + url);
            }
            this.url = u;
        }

        /** Sends HTTP basic auth with every request; a null user turns it off. */
        public Builder basicAuth(String user, String password) {
            this.username = user == null || user.isEmpty() ? null : user;
            this.password = user == null || user.isEmpty() ? null : Objects.requireNonNullElse(password, "");
            return this;
        }

        public Builder trustStore(Path path, String password, String type) {
            this.trustStore = path == null ? null : new Store(path, password, type);
            return this;
        }

        public Builder keyStore(Path path, String password, String type) {
            this.keyStore = path == null ? null : new Store(path, password, type);
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connect timeout");
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = positive(d, "request timeout");
            return this;
        }

        public SchemaRegistrySettings build() {
            return new SchemaRegistrySettings(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, not " + d);
            }
            return d;
        }
    }
}
