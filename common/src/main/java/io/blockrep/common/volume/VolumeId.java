package io.blockrep.common.volume;

import io.blockrep.common.InvalidInputException;
import java.util.regex.Pattern;

/** Volume ids: {@code [a-z0-9][a-z0-9-]{0,62}}. They name NBD exports, Kafka keys and files. */
public final class VolumeId {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private VolumeId() {
    }

    public static boolean isValid(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public static String require(String id) {
        if (!isValid(id)) {
            throw new InvalidInputException("'" + id + "' is not a valid volume id: use 1-63 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        return id;
    }
}
