package io.blockrep.common.config;

import io.blockrep.common.Sizes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The types a configuration value can have. Each parses the text form and throws
 * {@link IllegalArgumentException} with a message an operator can act on.
 */
public enum ConfigType {
    STRING("string", s -> s),
    INT("int", s -> Integer.parseInt(s.trim())),
    LONG("long", s -> Long.parseLong(s.trim())),
    BOOLEAN("boolean", ConfigType::parseBoolean),
    /** A byte size with binary units: {@code 64K}, {@code 1G}. Parsed to {@link Long}. */
    SIZE("size", s -> Sizes.parse(s)),
    /** A duration: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, or ISO-8601 {@code PT10S}. Parsed to {@link Duration}. */
    DURATION("duration", ConfigType::parseDuration),
    /** Comma-separated list, blanks dropped. Parsed to {@code List<String>}. */
    LIST("list", s -> Arrays.stream(s.split(",")).map(String::trim).filter(t -> !t.isEmpty()).toList()),
    /** {@code host:port}; port 0 means "pick a free one". Parsed to {@link HostPort}. */
    HOST_PORT("host:port", HostPort::parse),
    PATH("path", s -> Path.of(s.trim()));

    private final String displayName;
    private final Function<String, Object> parser;

    ConfigType(String displayName, Function<String, Object> parser) {
        this.displayName = displayName;
        this.parser = parser;
    }

    public String displayName() {
        return displayName;
    }

    Object parse(String text) {
        try {
            return parser.apply(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a valid " + displayName);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    private static Boolean parseBoolean(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException("'" + s + "' is not a boolean (true or false)");
        };
    }

    /** Parses a duration the way configuration files write them, as a usage error when it is not one. */
    public static Duration durationOf(String text) {
        try {
            return parseDuration(text);
        } catch (RuntimeException e) {
            throw new io.blockrep.common.InvalidInputException("'" + text + "' is not a duration (examples: 500ms, 10s, 5m, 1h)");
        }
    }

    static Duration parseDuration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("pt") || t.startsWith("p")) {
            return Duration.parse(t.toUpperCase(Locale.ROOT));
        }
        List<String> units = List.of("ms", "s", "m", "h", "d");
        for (String unit : units) {
            if (t.endsWith(unit) && !(unit.equals("s") && t.endsWith("ms"))) {
                String num = t.substring(0, t.length() - unit.length()).trim();
                long n;
                try {
                    n = Long.parseLong(num);
                } catch (NumberFormatException e) {
                    break;
                }
                return switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
        }
        throw new IllegalArgumentException("'" + s + "' is not a duration (examples: 500ms, 10s, 5m, 1h)");
    }
}
