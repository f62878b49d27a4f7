package io.blockrep.replayer.status;

import io.blockrep.schemas.dlq.DeadLetters;

/**
 * Headers of a record copied to {@code <prefix>dlq}: why it was not decoded and where it came from. The
 * same names as the replayer's dead letters ({@link DeadLetters}), so one DLQ reads the same whoever wrote it.
 */
public final class DlqHeaders {
    public static final String REASON = DeadLetters.REASON;
    public static final String TOPIC = DeadLetters.TOPIC;
    public static final String PARTITION = DeadLetters.PARTITION;
    public static final String OFFSET = DeadLetters.OFFSET;
    public static final String READER = DeadLetters.READER;
    /** The value of {@link #READER} for records the status app gave up on. */
    public static final String STATUS_APP = "status-app";

    private DlqHeaders() {
    }
}
