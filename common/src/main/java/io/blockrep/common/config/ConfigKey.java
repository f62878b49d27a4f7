package io.blockrep.common.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One configuration key: name, type, default (text form, or none when required), validator and
 * one line of documentation. A key name may contain the placeholder {@code <id>} for per-item keys
 * (per volume, per node); {@link ConfigDef#parse} expands it once for every id listed in the key
 * named by {@code idList}, which is null exactly for keys without the placeholder.
 */
public record ConfigKey(String name, ConfigType type, String defaultValue, boolean required, Validator validator, String doc,
                        String idList) {
    public ConfigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(validator, "validator");
        Objects.requireNonNull(doc, "doc");
        if (perId(name) != (idList != null)) {
            throw new IllegalArgumentException(idList == null
                    ? "key " + name + " has the " + ConfigDef.ID_PLACEHOLDER + " placeholder but no id list (call perIdFrom first)"
                    : "key " + name + " has no " + ConfigDef.ID_PLACEHOLDER + " placeholder but an id list " + idList);
        }
    }

    /** True for a per-item key, one whose name contains {@code <id>}. */
    public boolean perId() {
        return perId(name);
    }

    private static boolean perId(String name) {
        return name.contains(ConfigDef.ID_PLACEHOLDER);
    }

    /** The name of this key for one id of its list. */
    public String nameFor(String id) {
        return name.replace(ConfigDef.ID_PLACEHOLDER, id);
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
