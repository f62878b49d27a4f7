package io.blockrep.schemas;

/**
 * A Kafka record that cannot be decoded: wrong key format, unknown schema, corrupt Avro. Consumers skip and
 * report it. Its {@link Kind} says which, for dead-letter metrics and headers; the thrower knows, so a reader
 * never has to guess from the message.
 */
public class PoisonRecordException extends RuntimeException {
    /** What is wrong with the record; {@link #label()} is the metric label. */
    public enum Kind {
        /** The key does not parse (or names a region out of range). */
        BAD_KEY("bad-key"),
        /** The value names a schema id the registry does not have. */
        UNKNOWN_SCHEMA("unknown-schema"),
        /** The value does not decode. */
        BAD_VALUE("bad-value");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Kind kind;

    /** A value that does not decode ({@link Kind#BAD_VALUE}). */
    public PoisonRecordException(String message) {
        this(Kind.BAD_VALUE, message);
    }

    /** A value that does not decode ({@link Kind#BAD_VALUE}). */
    public PoisonRecordException(String message, Throwable cause) {
        this(Kind.BAD_VALUE, message, cause);
    }

    public PoisonRecordException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public PoisonRecordException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
