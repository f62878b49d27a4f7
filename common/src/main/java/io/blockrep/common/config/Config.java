package io.blockrep.common.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Parsed, validated configuration values. Immutable. Per-id keys are read with the id, e.g. {@code getSize("producer.volume.<id>.size", "demo")}. */
public final class Config {
    private final Map<String, Object> values;
    private final Map<String, String> passThrough;
    private final Map<String, List<String>> ids;

    Config(Map<String, Object> values, Map<String, String> passThrough, Map<String, List<String>> ids) {
        this.values = values;
        this.passThrough = Map.copyOf(passThrough);
        Map<String, List<String>> copy = new java.util.LinkedHashMap<>();
        ids.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        this.ids = java.util.Collections.unmodifiableMap(copy);
    }

    /** The ids listed in the table's only id list key (e.g. the volume ids); empty when it has none. */
    public List<String> ids() {
        if (ids.size() > 1) {
            throw new IllegalStateException("the table has several id lists " + ids.keySet() + "; name one with ids(listKey)");
        }
        return ids.isEmpty() ? List.of() : ids.values().iterator().next();
    }

    /** The ids listed in {@code listKey}, one of the table's id list keys (empty when its value did not parse). */
    public List<String> ids(String listKey) {
        List<String> list = ids.get(listKey);
        if (list == null) {
            throw new IllegalArgumentException("not an id list key: " + listKey);
        }
        return list;
    }

    public Object get(String key) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("no such configuration key: " + key);
        }
        return values.get(key);
    }

    private Object get(String key, String id) {
        return get(key.replace(ConfigDef.ID_PLACEHOLDER, id));
    }

    public String getString(String key) {
        return (String) get(key);
    }

    public String getString(String key, String id) {
        return (String) get(key, id);
    }

    public int getInt(String key) {
        return (Integer) get(key);
    }

    /** True when the key has a value (it was set, or has a default, and it parsed). */
    public boolean isSet(String key) {
        return values.get(key) != null;
    }

    public boolean getBoolean(String key) {
        return (Boolean) get(key);
    }

    public boolean getBoolean(String key, String id) {
        return (Boolean) get(key, id);
    }

    public long getSize(String key) {
        return (Long) get(key);
    }

    public long getSize(String key, String id) {
        return (Long) get(key, id);
    }

    public Duration getDuration(String key) {
        return (Duration) get(key);
    }

    @SuppressWarnings("unchecked")
    public List<String> getList(String key) {
        return (List<String>) get(key);
    }

    public HostPort getHostPort(String key) {
        return (HostPort) get(key);
    }

    public HostPort getHostPort(String key, String id) {
        return (HostPort) get(key, id);
    }

    @SuppressWarnings("unchecked")
    public List<String> getList(String key, String id) {
        return (List<String>) get(key, id);
    }

    public Path getPath(String key) {
        return (Path) get(key);
    }

    public Path getPath(String key, String id) {
        return (Path) get(key, id);
    }

    /** Pass-through keys under {@code prefix}, with the prefix removed, as client properties. */
    public Properties passThrough(String prefix) {
        Properties p = new Properties();
        passThrough.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                p.setProperty(k.substring(prefix.length()), v);
            }
        });
        return p;
    }
}
