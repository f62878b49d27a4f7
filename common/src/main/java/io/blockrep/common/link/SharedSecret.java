package io.blockrep.common.link;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The link's shared secret. Never printed; {@link #toString()} hides it. Immutable. */
public final class SharedSecret {
    public static final int MIN_BYTES = 16;
    private final byte[] key;

    private SharedSecret(byte[] key) {
        if (key.length < MIN_BYTES) {
            throw new IllegalArgumentException("the link secret must be at least " + MIN_BYTES + " bytes, got " + key.length);
        }
        this.key = key.clone();
    }

    public static SharedSecret of(byte[] key) {
        return new SharedSecret(key);
    }

    public static SharedSecret of(String text) {
        return new SharedSecret(text.getBytes(StandardCharsets.UTF_8));
    }

    byte[] key() {
        return key.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SharedSecret s && java.security.MessageDigest.isEqual(s.key, key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "SharedSecret[***]";
    }
}
