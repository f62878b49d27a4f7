package io.blockrep.common.link;

/**
 * Frame type codes (one byte on the wire). Reserved codes are known to this version but not yet
 * spoken; a frame with one is rejected like an unknown type. Never renumber, only add.
 */
public enum MessageType {
    AUTH_CHALLENGE(0x01),
    AUTH_RESPONSE(0x02),
    HELLO(0x03),
    ATTACHED(0x04),
    WRITE(0x10),
    ACK(0x11),
    FLUSH(0x12),
    PING(0x20),
    PONG(0x21),
    DATASET_BEGIN(0x30),
    DATASET_EXTENT(0x31),
    DATASET_COMMIT(0x32),
    DATASET_ACK(0x33),
    HASH_REQUEST(0x38),
    HASH_REPLY(0x39),
    GENERATION(0x48),
    READ_REQUEST(0x40),
    READ_REPLY(0x41),
    ERROR(0x7E),
    BYE(0x7F);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final boolean reserved;

    MessageType(int code) {
        this(code, false);
    }

    MessageType(int code, boolean reserved) {
        this.code = code;
        this.reserved = reserved;
    }

    public int code() {
        return code;
    }

    /** True for codes set aside for a later protocol addition; none are reserved in version 1 today. */
    public boolean reserved() {
        return reserved;
    }

    /** The type for a wire code, or null when the code is not assigned. */
    static MessageType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
