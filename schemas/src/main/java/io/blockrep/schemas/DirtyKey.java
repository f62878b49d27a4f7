package io.blockrep.schemas;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Key of a record in the dirty topic: {@code <volume>/<node>/<era>/<region>}, or
 * {@code <volume>/<node>/<era>/closed} for an era-closed marker. Keys are plain UTF-8 text, not
 * Avro: compaction compares key bytes, so they must never change with a schema version, and ops
 * can read them with kcat. Values are Avro.
 */
public record DirtyKey(String volume, String node, long era, long region) {
    public static final long CLOSED = -1;
    private static final Pattern FORMAT = Pattern.compile("([a-z0-9][a-z0-9-]{0,62})/([a-z0-9][a-z0-9-]{0,62})/(\\d{1,18})/(\\d{1,18}|closed)");

    public DirtyKey {
        if (era < 0 || region < CLOSED) {
            throw new IllegalArgumentException("era and region must not be negative: " + era + "/" + region);
        }
    }

    public static DirtyKey region(String volume, String node, long era, long region) {
        return new DirtyKey(volume, node, era, region);
    }

    public static DirtyKey eraClosed(String volume, String node, long era) {
        return new DirtyKey(volume, node, era, CLOSED);
    }

    public boolean isEraClosed() {
        return region == CLOSED;
    }

    public String text() {
        return volume + "/" + node + "/" + era + "/" + (isEraClosed() ? "closed" : Long.toString(region));
    }

    public byte[] bytes() {
        return text().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses a key; throws {@link PoisonRecordException} for anything that is not one. */
    public static DirtyKey parse(byte[] bytes) {
        if (bytes == null) {
            throw new PoisonRecordException(PoisonRecordException.Kind.BAD_KEY, "dirty record without a key");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        Matcher m = FORMAT.matcher(text);
        if (!m.matches()) {
            throw new PoisonRecordException(PoisonRecordException.Kind.BAD_KEY, "not a dirty key: '" + (text.length() > 200 ? text.substring(0, 200) + "..." : text) + "'");
        }
        long region = m.group(4).equals("closed") ? CLOSED : Long.parseLong(m.group(4));
        return new DirtyKey(m.group(1), m.group(2), Long.parseLong(m.group(3)), region);
    }

    @Override
    public String toString() {
        return text();
    }
}
