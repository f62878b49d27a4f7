package io.blockrep.schemas;

/** A Kafka record that cannot be decoded: wrong key format, unknown schema, corrupt Avro. Consumers skip and report it. */
public class PoisonRecordException extends RuntimeException {
    public PoisonRecordException(String message) {
        super(message);
    }

    public PoisonRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
