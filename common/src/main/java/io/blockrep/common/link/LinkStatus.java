package io.blockrep.common.link;

/**
 * Status codes carried by ACK and ERROR frames (unsigned 16-bit on the wire). {@link #OK} only
 * appears in ACKs. Codes are part of the wire format: never renumber, only add.
 */
public enum LinkStatus {
    OK(0),
    /** Bad magic, CRC, length, or a payload that does not parse. */
    MALFORMED_FRAME(1),
    UNSUPPORTED_VERSION(2),
    UNKNOWN_MESSAGE_TYPE(3),
    /** A valid message that is not allowed in the connection's current state. */
    UNEXPECTED_MESSAGE(4),
    AUTH_FAILED(5),
    NOT_AUTHENTICATED(6),
    UNKNOWN_VOLUME(7),
    /** The receiving side is not SECONDARY for the volume (or the sender does not claim PRIMARY). */
    ROLE_CONFLICT(8),
    GEOMETRY_MISMATCH(9),
    NOT_ATTACHED(10),
    OUT_OF_RANGE(11),
    IO_ERROR(12),
    INTERNAL(13),
    SHUTTING_DOWN(14),
    /** A data set's COMMIT (or its extents) disagree with its BEGIN: count, byte total or CRC32C. */
    DATASET_MISMATCH(15),
    /** Both sides took writes since their last common generation: nothing is attached until an operator resolves it. */
    SPLIT_BRAIN(16),
    /** The two copies share no generation: they are unrelated, and only an explicit full copy may join them. */
    UNRELATED(17),
    /** The receiving side holds newer data (its history contains the sender's current generation). */
    NEWER_HERE(18);

    private final int code;

    LinkStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The status for a wire code; unknown codes map to {@link #INTERNAL} so a newer peer never breaks decoding. */
    public static LinkStatus fromCode(int code) {
        for (LinkStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return INTERNAL;
    }
}
