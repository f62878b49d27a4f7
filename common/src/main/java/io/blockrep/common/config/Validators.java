package io.blockrep.common.config;

import io.blockrep.common.Sizes;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Validators for {@link ConfigKey}s, each describing itself for the config reference. */
public final class Validators {
    private Validators() {
    }

    public static ConfigKey.Validator range(long min, long max) {
        return new Described(min + ".." + max, v -> {
            long n = ((Number) v).longValue();
            return n < min || n > max ? n + " is outside " + min + ".." + max : null;
        });
    }

    public static ConfigKey.Validator powerOfTwoSize(long min, long max) {
        return new Described("power of two, " + Sizes.format(min) + ".." + Sizes.format(max), v -> {
            long n = (Long) v;
            return n < min || n > max || Long.bitCount(n) != 1
                    ? Sizes.format(n) + " is not a power of two between " + Sizes.format(min) + " and " + Sizes.format(max)
                    : null;
        });
    }

    public static ConfigKey.Validator positiveSize() {
        return new Described("> 0", v -> (Long) v > 0 ? null : "must be positive");
    }

    /** A positive size that is a multiple of {@code unit} bytes. */
    public static ConfigKey.Validator positiveMultipleOf(long unit) {
        return new Described("> 0, multiple of " + unit, v -> {
            long n = (Long) v;
            return n <= 0 || n % unit != 0 ? n + " is not a positive multiple of " + unit + " bytes" : null;
        });
    }

    public static ConfigKey.Validator oneOf(String... choices) {
        List<String> allowed = Arrays.asList(choices);
        return new Described(String.join(", ", allowed), v -> {
            String s = v.toString().toUpperCase(Locale.ROOT);
            return allowed.contains(s) ? null : "'" + v + "' is not one of " + allowed;
        });
    }

    public static ConfigKey.Validator pattern(String regex, String what) {
        Pattern p = Pattern.compile(regex);
        return new Described(what, v -> p.matcher(v.toString()).matches() ? null : "'" + v + "' is not " + what);
    }

    /** Every element of a list matches {@code regex}; the list is non-empty when {@code nonEmpty}. */
    public static ConfigKey.Validator listOf(String regex, String what, boolean nonEmpty) {
        Pattern p = Pattern.compile(regex);
        return new Described((nonEmpty ? "non-empty " : "") + "list of " + what, v -> {
            List<?> list = (List<?>) v;
            if (nonEmpty && list.isEmpty()) {
                return "must list at least one";
            }
            for (Object o : list) {
                if (!p.matcher(o.toString()).matches()) {
                    return "'" + o + "' is not " + what;
                }
            }
            return list.stream().distinct().count() == list.size() ? null : "lists an entry twice";
        });
    }

    private record Described(String description, ConfigKey.Validator check) implements ConfigKey.Validator {
        @Override
        public String check(Object value) {
            return check.check(value);
        }

        @Override
        public String describe() {
            return description;
        }
    }
}
