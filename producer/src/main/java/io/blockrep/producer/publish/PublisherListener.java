package io.blockrep.producer.publish;

/** Told of failures on a publisher's own thread. Called on that thread: return quickly, do not block. */
@FunctionalInterface
public interface PublisherListener {
    PublisherListener NONE = (error, fatal) -> { };

    /**
     * @param fatal true when the publisher stopped for good (non-compacted dirty topic, changed partition
     *              count); false for a failure it retries itself (Kafka unreachable, a send timed out)
     */
    void onFailure(Throwable error, boolean fatal);

    /**
     * The publisher's loop failed unexpectedly and restarts after its backoff ({@code RestartingLoop}); it
     * logged the failure. The facility publishes an event of it (kind {@code COMPONENT_RESTARTED}).
     *
     * @param component "dirty publisher" or "event publisher"
     * @param attempt   consecutive restarts, 1 for the first
     */
    default void onRestart(String component, Throwable cause, int attempt) {
    }
}
