package io.blockrep.schemas.registry;

import io.blockrep.common.config.Config;
import java.util.Optional;

/**
 * Whether a service uses a schema registry, and how: the settings (empty = no registry, Avro
 * single-object encoding) and whether missing value schemas are registered at start.
 */
public record RegistrySetup(Optional<SchemaRegistrySettings> settings, boolean autoRegister) {
    /** No registry. */
    public static final RegistrySetup NONE = new RegistrySetup(Optional.empty(), true);

    public RegistrySetup {
        settings = settings == null ? Optional.empty() : settings;
    }

    /** From the keys that {@link SchemaRegistryConfig#define} declared under {@code prefix}. */
    public static RegistrySetup from(Config c, String prefix) {
        return new RegistrySetup(SchemaRegistryConfig.settings(c, prefix), SchemaRegistryConfig.autoRegister(c, prefix));
    }

    public boolean enabled() {
        return settings.isPresent();
    }
}
