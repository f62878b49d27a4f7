package io.blockrep.common.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One configuration key: name, type, default (text form, or none when required), validator and
 * one line of documentation. A key name may contain the placeholder {@code <id>} for per-volume
 * keys; {@link ConfigDef#parse} expands it.
 */
public record ConfigKey(String name, ConfigType type, String defaultValue, boolean required, Validator validator, String doc) {
    public ConfigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(validator, "validator");
        Objects.requireNonNull(doc, "doc");
    }

    public Optional<String> defaultText() {
        return Optional.ofNullable(defaultValue);
    }

    /** Checks a parsed value; returns a problem description, or null when the value is fine. */
    @FunctionalInterface
    public interface Validator {
        Validator ANY = v -> null;

        String check(Object value);

        /** Short description for the config reference; override for custom validators. */
        default String describe() {
            return "";
        }
    }
}
