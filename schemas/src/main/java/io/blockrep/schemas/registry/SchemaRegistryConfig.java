package io.blockrep.schemas.registry;

import static io.blockrep.common.config.ConfigType.BOOLEAN;
import static io.blockrep.common.config.ConfigType.DURATION;
import static io.blockrep.common.config.ConfigType.PATH;
import static io.blockrep.common.config.ConfigType.STRING;

import io.blockrep.common.config.Config;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.Validators;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The schema-registry keys of a service's config table, under a prefix such as
 * {@code producer.schema.registry.} or {@code replayer.schema.registry.}: {@link #define} adds them
 * to the service's {@link ConfigDef}, {@link #problems} checks the rules across them, and
 * {@link #settings} turns them into {@link SchemaRegistrySettings} (empty when no URL is set: no
 * registry, single-object encoding).
 */
public final class SchemaRegistryConfig {
    public static final String URL = "url";
    public static final String AUTO_REGISTER = "auto.register";
    private static final String[] STORE_TYPES = {"PKCS12", "JKS"};

    private SchemaRegistryConfig() {
    }

    public static ConfigDef.Builder define(ConfigDef.Builder b, String prefix) {
        return b.define(prefix + URL, STRING, null, Validators.pattern("https?://[^/\\s]+(/\\S*)?", "an http:// or https:// URL"),
                        "Base URL of a schema registry's Confluent REST API (Apicurio: http://HOST:8080/apis/ccompat/v7). Set: every value is "
                                + "written in the Confluent wire format (magic 0, schema id, Avro binary); unset: Avro single-object encoding. "
                                + "Readers read both.")
                .define(prefix + AUTO_REGISTER, BOOLEAN, "true",
                        "Register missing value schemas (and set their subjects to BACKWARD) at start; false: only look them up, and refuse "
                                + "to start when one is absent.")
                .define(prefix + "basic.auth.user", STRING, null, "HTTP basic-auth user for the registry; unset = no credentials.")
                .define(prefix + "basic.auth.password", STRING, null,
                        "Password of " + prefix + "basic.auth.user. Prefer the environment variable " + ConfigDef.envName(prefix + "basic.auth.password") + ".")
                .define(prefix + "truststore", PATH, null,
                        "Trust store with the CA certificates of an https registry; unset = the JVM's default (javax.net.ssl.trustStore).")
                .define(prefix + "truststore.password", STRING, null, "Password of " + prefix + "truststore.")
                .define(prefix + "truststore.type", STRING, "PKCS12", Validators.oneOf(STORE_TYPES), "Type of " + prefix + "truststore.")
                .define(prefix + "keystore", PATH, null, "Key store with a client certificate, for a registry that requires mutual TLS.")
                .define(prefix + "keystore.password", STRING, null, "Password of " + prefix + "keystore (and of its key).")
                .define(prefix + "keystore.type", STRING, "PKCS12", Validators.oneOf(STORE_TYPES), "Type of " + prefix + "keystore.")
                .define(prefix + "connect.timeout", DURATION, "10s", "Connect timeout of a registry request.")
                .define(prefix + "request.timeout", DURATION, "30s", "Timeout of one registry request, answer included.");
    }

    /** Rules across the keys under {@code prefix}, for the service's cross-checks. */
    public static List<String> problems(Config c, String prefix) {
        List<String> problems = new ArrayList<>();
        boolean registry = c.isSet(prefix + URL);
        for (String k : List.of("basic.auth.user", "truststore", "keystore")) {
            if (c.isSet(prefix + k) && !registry) {
                problems.add(prefix + k + ": has no effect without " + prefix + URL);
            }
        }
        if (c.isSet(prefix + "basic.auth.password") && !c.isSet(prefix + "basic.auth.user")) {
            problems.add(prefix + "basic.auth.password: needs " + prefix + "basic.auth.user");
        }
        if (c.isSet(prefix + "keystore") && !c.isSet(prefix + "keystore.password")) {
            problems.add(prefix + "keystore.password: required with " + prefix + "keystore");
        }
        boolean tlsStores = c.isSet(prefix + "truststore") || c.isSet(prefix + "keystore");
        if (registry && tlsStores && !c.getString(prefix + URL).startsWith("https://")) {
            problems.add(prefix + "truststore/keystore: set, but " + prefix + URL + " is not https://");
        }
        return problems;
    }

    /** The settings, or empty when {@code <prefix>url} is not set. */
    public static Optional<SchemaRegistrySettings> settings(Config c, String prefix) {
        if (!c.isSet(prefix + URL)) {
            return Optional.empty();
        }
        SchemaRegistrySettings.Builder b = SchemaRegistrySettings.builder(c.getString(prefix + URL))
                .basicAuth(c.getString(prefix + "basic.auth.user"), c.getString(prefix + "basic.auth.password"))
                .trustStore(c.getPath(prefix + "truststore"), c.getString(prefix + "truststore.password"), c.getString(prefix + "truststore.type"))
                .keyStore(c.getPath(prefix + "keystore"), c.getString(prefix + "keystore.password"), c.getString(prefix + "keystore.type"))
                .connectTimeout(c.getDuration(prefix + "connect.timeout"))
                .requestTimeout(c.getDuration(prefix + "request.timeout"));
        return Optional.of(b.build());
    }

    public static boolean autoRegister(Config c, String prefix) {
        return c.getBoolean(prefix + AUTO_REGISTER);
    }
}
