package io.blockrep.common;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes written the way operators write them: {@code 4096}, {@code 64K}, {@code 1G}, {@code 512MiB}. Binary units. */
public final class Sizes {
    public static final long KIB = 1L << 10;
    public static final long MIB = 1L << 20;
    public static final long GIB = 1L << 30;
    public static final long TIB = 1L << 40;

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgtp]?)(i?b)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {
    }

    /** Parses a size; throws {@link InvalidInputException} naming the bad text. */
    public static long parse(String text) {
        if (text == null) {
            throw new InvalidInputException("size is missing");
        }
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new InvalidInputException("'" + text + "' is not a size (examples: 4096, 64K, 512M, 1G)");
        }
        long shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "" -> 0;
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            case "p" -> 50;
            default -> throw new IllegalStateException();
        };
        long value;
        try {
            value = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new InvalidInputException("'" + text + "' is too large");
        }
        if (value > (Long.MAX_VALUE >> shift)) {
            throw new InvalidInputException("'" + text + "' is too large");
        }
        return value << shift;
    }

    /** Formats a size with the largest binary unit that divides it exactly, e.g. {@code 65536 -> 64K}. */
    public static String format(long bytes) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        int unit = 0;
        long v = bytes;
        while (unit < units.length - 1 && v != 0 && (v & 1023) == 0) {
            v >>= 10;
            unit++;
        }
        return v + units[unit];
    }

    /** Human-readable approximate size, e.g. {@code 1.5 GiB}. */
    public static String human(long bytes) {
        if (bytes < KIB) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int unit = -1;
        while (v >= 1024 && unit < units.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[unit]);
    }
}
