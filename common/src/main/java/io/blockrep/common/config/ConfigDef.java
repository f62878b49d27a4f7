package io.blockrep.common.config;

import io.blockrep.common.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The configuration table of one service: every key with its type, default, validator and doc,
 * in one place (Kafka's {@code ConfigDef} style). {@link #parse} checks a whole properties map and
 * reports every problem at once; {@link #markdownTable()} renders the README's reference.
 *
 * <p>Keys whose name contains {@code <id>} are per-item keys (per volume, per node): each is expanded
 * once for every id listed in the value of its id list key — the one named by the last
 * {@link Builder#perIdFrom(String)} before the key was defined. A table may have several id lists
 * ({@code replayer.nodes} and {@code replayer.volumes}, say).
 * Keys under a pass-through prefix (for example {@code producer.kafka.}) are handed, without the
 * prefix, to a client library; the table does not know them, but a {@link PassThroughCheck} given
 * with the prefix checks them against the library's own table. Any other unknown key is a problem:
 * a typo must not silently fall back to a default.
 *
 * <p>Environment variables override the file: {@code BLOCKREP_} followed by the key upper-cased
 * with '.' and '-' replaced by '_' (e.g. {@code BLOCKREP_PRODUCER_NODE_ID}). Pass-through keys can
 * be set the same way: a variable named {@code BLOCKREP_} + the prefix upper-cased ('.' as '_',
 * e.g. {@code BLOCKREP_PRODUCER_KAFKA_}) + a rest sets the key prefix + the rest lower-cased with
 * every '_' turned into '.' ({@code BLOCKREP_PRODUCER_KAFKA_SASL_JAAS_CONFIG} sets
 * {@code producer.kafka.sasl.jaas.config}); a client key that holds '_' or '-' cannot be set so.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class ConfigDef {
    public static final String ID_PLACEHOLDER = "<id>";

    private final Map<String, ConfigKey> keys;
    private final List<String> idListKeys;
    private final List<String> passThroughPrefixes;
    private final Map<String, PassThroughCheck> passThroughChecks;

    private ConfigDef(Builder b) {
        this.keys = new LinkedHashMap<>(b.keys);
        this.idListKeys = List.copyOf(b.idListKeys);
        this.passThroughPrefixes = List.copyOf(b.passThroughPrefixes);
        this.passThroughChecks = Map.copyOf(b.passThroughChecks);
    }

    /**
     * Checks the settings under one pass-through prefix against the client library's own table.
     * Must be thread-safe.
     */
    public interface PassThroughCheck {
        /**
         * What is wrong with each bad setting: setting name (without the prefix) to a problem. The
         * prefix is given so that a did-you-mean can name the full key.
         */
        Map<String, String> problems(String prefix, Map<String, String> settings);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Map<String, ConfigKey> keys() {
        return keys;
    }

    /** Parses {@code props} with overrides from {@code env}; throws {@link InvalidInputException} listing every problem. */
    public Config parse(Map<String, String> props, Map<String, String> env) {
        return parse(props, env, c -> List.of());
    }

    /**
     * Like {@link #parse(Map, Map)}, then runs {@code crossChecks} (rules that involve several keys)
     * on the values that parsed, and reports their problems together with the per-key ones. A value
     * that failed to parse reads as {@code null} in the cross-checks.
     */
    public Config parse(Map<String, String> props, Map<String, String> env, Function<Config, List<String>> crossChecks) {
        Checked checked = check(props, env, crossChecks);
        if (!checked.problems().isEmpty()) {
            throw InvalidInputException.config(checked.problems());
        }
        return checked.config();
    }

    /**
     * The values that parsed and every problem found (per key, pass-through and cross-checks), without
     * throwing: what {@link #parse(Map, Map, Function)} reports, for a caller that adds checks of its own
     * (state on disk) or only reports ({@code blockrep config check}). A value that failed to parse
     * reads as {@code null} in {@code config}.
     */
    public record Checked(Config config, List<String> problems) {
        public Checked {
            problems = List.copyOf(problems);
        }
    }

    /** Checks {@code props} with overrides from {@code env} as {@link #parse(Map, Map, Function)} does; never throws for bad input. */
    public Checked check(Map<String, String> props, Map<String, String> env, Function<Config, List<String>> crossChecks) {
        Map<String, String> raw = new TreeMap<>(props);
        Map<String, String> fromEnv = applyPassThroughEnv(raw, env);
        List<String> problems = new ArrayList<>();
        Map<String, Object> values = new LinkedHashMap<>();

        Map<String, List<String>> ids = new LinkedHashMap<>();
        for (ConfigKey key : keys.values()) {
            if (!key.perId()) {
                applyEnv(key.name(), raw, env);
                Object v = parseOne(key, key.name(), raw, problems);
                values.put(key.name(), v);
                if (idListKeys.contains(key.name())) {
                    ids.put(key.name(), v instanceof List<?> list ? list.stream().map(Object::toString).toList() : List.of());
                }
            }
        }
        for (String listKey : idListKeys) {
            for (String id : ids.get(listKey)) {
                for (ConfigKey key : keys.values()) {
                    if (listKey.equals(key.idList())) {
                        String name = key.nameFor(id);
                        applyEnv(name, raw, env);
                        values.put(name, parseOne(key, name, raw, problems));
                    }
                }
            }
        }
        Map<String, String> passThrough = new TreeMap<>();
        for (String name : raw.keySet()) {
            if (values.containsKey(name)) {
                continue;
            }
            String prefix = passThroughPrefixes.stream().filter(name::startsWith).findFirst().orElse(null);
            if (prefix != null) {
                passThrough.put(name, raw.get(name));
            } else {
                problems.add(unknownKeyProblem(name, ids));
            }
        }
        checkPassThrough(passThrough, fromEnv, problems);
        Config config = new Config(values, passThrough, ids);
        problems.addAll(crossChecks.apply(config));
        return new Checked(config, problems);
    }

    /** Sets pass-through keys from their environment variables; returns key to variable name for those set. */
    private Map<String, String> applyPassThroughEnv(Map<String, String> raw, Map<String, String> env) {
        Map<String, String> fromEnv = new TreeMap<>();
        for (String prefix : passThroughPrefixes) {
            String varPrefix = envName(prefix);
            for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
                String rest = e.getKey().startsWith(varPrefix) ? e.getKey().substring(varPrefix.length()) : "";
                if (!rest.isEmpty() && e.getValue() != null) {
                    String key = prefix + rest.toLowerCase(Locale.ROOT).replace('_', '.');
                    raw.put(key, e.getValue());
                    fromEnv.put(key, e.getKey());
                }
            }
        }
        return fromEnv;
    }

    private void checkPassThrough(Map<String, String> passThrough, Map<String, String> fromEnv, List<String> problems) {
        for (String prefix : passThroughPrefixes) {
            PassThroughCheck check = passThroughChecks.get(prefix);
            if (check == null) {
                continue;
            }
            Map<String, String> settings = new TreeMap<>();
            passThrough.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    settings.put(k.substring(prefix.length()), v);
                }
            });
            new TreeMap<>(check.problems(prefix, settings)).forEach((name, problem) -> {
                String key = prefix + name;
                String origin = fromEnv.containsKey(key) ? " (from " + fromEnv.get(key) + ")" : "";
                problems.add(key + origin + ": " + problem);
            });
        }
    }

    /**
     * The candidate nearest to {@code name} by edit distance, when at most {@code maxDistance}
     * edits away; null otherwise. For did-you-mean hints.
     */
    public static String closest(String name, Iterable<String> candidates, int maxDistance) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(name, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return bestDistance <= maxDistance ? best : null;
    }

    private static void applyEnv(String name, Map<String, String> raw, Map<String, String> env) {
        String var = envName(name);
        String v = env.get(var);
        if (v != null) {
            raw.put(name, v);
        }
    }

    /** Reads a properties file (UTF-8); an unreadable file is a {@link io.blockrep.common.FatalException} naming it. */
    public static Properties readFile(java.nio.file.Path file) {
        Properties props = new Properties();
        try (java.io.Reader r = java.nio.file.Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (java.io.IOException e) {
            throw new io.blockrep.common.FatalException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        return props;
    }

    /** Parses {@code props} as {@link #parse(Map, Map, Function)} does. */
    public Config parse(Properties props, Map<String, String> env, Function<Config, List<String>> crossChecks) {
        return parse(toMap(props), env, crossChecks);
    }

    /** Checks {@code props} as {@link #check(Map, Map, Function)} does. */
    public Checked check(Properties props, Map<String, String> env, Function<Config, List<String>> crossChecks) {
        return check(toMap(props), env, crossChecks);
    }

    private static Map<String, String> toMap(Properties props) {
        Map<String, String> map = new java.util.HashMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
        return map;
    }

    public static String envName(String key) {
        return "BLOCKREP_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static Object parseOne(ConfigKey key, String name, Map<String, String> raw, List<String> problems) {
        String text = raw.get(name);
        if (text == null || text.isBlank()) {
            if (key.required()) {
                problems.add(name + ": required (" + key.doc() + ")");
                return null;
            }
            text = key.defaultValue();
            if (text == null) {
                return null;
            }
        }
        Object value;
        try {
            value = key.type().parse(text);
        } catch (IllegalArgumentException e) {
            problems.add(name + ": " + e.getMessage());
            return null;
        }
        String problem = key.validator().check(value);
        if (problem != null) {
            problems.add(name + ": " + problem);
            return null;
        }
        return value;
    }

    private String unknownKeyProblem(String name, Map<String, List<String>> ids) {
        String unlisted = unlistedIdProblem(name, ids);
        if (unlisted != null) {
            return unlisted;
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (ConfigKey candidate : keys.values()) {
            List<String> expanded = candidate.perId()
                    ? ids.getOrDefault(candidate.idList(), List.of()).stream().map(candidate::nameFor).toList()
                    : List.of(candidate.name());
            for (String c : expanded) {
                int d = distance(name, c);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = c;
                }
            }
        }
        String hint = best != null && bestDistance <= 3 ? " (did you mean '" + best + "'?)" : "";
        return name + ": unknown key" + hint;
    }

    /**
     * The problem of a per-item key written for an id its id list does not hold
     * ({@code producer.volume.vol-x.size} with {@code producer.volumes=demo}); null when {@code name}
     * is not such a key. The did-you-mean names the listed id nearest to the one written.
     */
    private String unlistedIdProblem(String name, Map<String, List<String>> ids) {
        for (ConfigKey key : keys.values()) {
            if (!key.perId()) {
                continue;
            }
            int at = key.name().indexOf(ID_PLACEHOLDER);
            String head = key.name().substring(0, at);
            String tail = key.name().substring(at + ID_PLACEHOLDER.length());
            if (name.length() <= head.length() + tail.length() || !name.startsWith(head) || !name.endsWith(tail)) {
                continue;
            }
            String id = name.substring(head.length(), name.length() - tail.length());
            if (!ID_PATTERN.matcher(id).matches()) {
                continue;
            }
            List<String> listed = ids.getOrDefault(key.idList(), List.of());
            String nearest = closest(id, listed, Math.max(2, id.length() / 3));
            String hint = nearest != null ? " (did you mean '" + key.nameFor(nearest) + "'?)" : "";
            return name + ": unknown key: '" + id + "' is not listed in " + key.idList() + " " + listed
                    + " (list it there, or remove this key)" + hint;
        }
        return null;
    }

    private static final java.util.regex.Pattern ID_PATTERN = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The configuration reference as a Markdown table; the README embeds it verbatim. */
    public String markdownTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| key | type | default | valid values | description |\n");
        sb.append("|---|---|---|---|---|\n");
        for (ConfigKey k : keys.values()) {
            String def = k.required() ? "*required*" : k.defaultValue() == null ? "" : "`" + k.defaultValue() + "`";
            sb.append("| `").append(k.name()).append("` | ").append(k.type().displayName()).append(" | ")
                    .append(def).append(" | ").append(k.validator().describe()).append(" | ")
                    .append(k.doc().replace("|", "\\|")).append(" |\n");
        }
        for (String prefix : passThroughPrefixes) {
            String checked = passThroughChecks.containsKey(prefix)
                    ? "; checked against the client's own settings (an unknown name or a bad value is a problem); from the environment as `"
                    + envName(prefix) + "<NAME>` ('.' as '_')"
                    : "";
            sb.append("| `").append(prefix).append("*` | string | | | passed as they are, without the prefix, to the client")
                    .append(checked).append(" |\n");
        }
        return sb.toString();
    }

    /** Builds a {@link ConfigDef}. */
    public static final class Builder {
        private final Map<String, ConfigKey> keys = new LinkedHashMap<>();
        private final List<String> idListKeys = new ArrayList<>();
        private String idListKey;
        private final List<String> passThroughPrefixes = new ArrayList<>();
        private final Map<String, PassThroughCheck> passThroughChecks = new LinkedHashMap<>();

        public Builder define(String name, ConfigType type, String defaultValue, ConfigKey.Validator validator, String doc) {
            return add(new ConfigKey(name, type, defaultValue, false, validator, doc, idListFor(name)));
        }

        public Builder define(String name, ConfigType type, String defaultValue, String doc) {
            return define(name, type, defaultValue, ConfigKey.Validator.ANY, doc);
        }

        public Builder required(String name, ConfigType type, ConfigKey.Validator validator, String doc) {
            return add(new ConfigKey(name, type, null, true, validator, doc, idListFor(name)));
        }

        /**
         * The {@code <id>} keys defined from here on (until the next call) are expanded once for every
         * id in the value of {@code listKey}, a {@link ConfigType#LIST} key defined before.
         */
        public Builder perIdFrom(String listKey) {
            Objects.requireNonNull(listKey);
            ConfigKey list = keys.get(listKey);
            if (list == null || list.type() != ConfigType.LIST || list.perId()) {
                throw new IllegalStateException("id list key must be a LIST key defined before perIdFrom: " + listKey);
            }
            if (idListKeys.contains(listKey)) {
                throw new IllegalStateException("perIdFrom called twice for " + listKey);
            }
            idListKeys.add(listKey);
            this.idListKey = listKey;
            return this;
        }

        private String idListFor(String name) {
            return name.contains(ID_PLACEHOLDER) ? idListKey : null;
        }

        public Builder passThrough(String prefix) {
            passThroughPrefixes.add(prefix);
            return this;
        }

        /** A pass-through prefix whose settings {@code check} validates (unknown names, bad values). */
        public Builder passThrough(String prefix, PassThroughCheck check) {
            passThroughChecks.put(prefix, Objects.requireNonNull(check, "check"));
            return passThrough(prefix);
        }

        private Builder add(ConfigKey key) {
            if (keys.putIfAbsent(key.name(), key) != null) {
                throw new IllegalStateException("key defined twice: " + key.name());
            }
            return this;
        }

        public ConfigDef build() {
            return new ConfigDef(this);
        }
    }
}
