package io.blockrep.replayer.status;

/**
 * Headers of a record copied to {@code <prefix>dlq}: why it was not decoded and where it came from. The
 * replayer writes the same names; keep them exact.
 */
public final class DlqHeaders {
    public static final String REASON = "blockrep.dlq.reason";
    public static final String TOPIC = "blockrep.dlq.topic";
    public static final String PARTITION = "blockrep.dlq.partition";
    public static final String OFFSET = "blockrep.dlq.offset";
    public static final String READER = "blockrep.dlq.reader";
    /** The value of {@link #READER} for records the status app gave up on. */
    public static final String STATUS_APP = "status-app";

    private DlqHeaders() {
    }
}
