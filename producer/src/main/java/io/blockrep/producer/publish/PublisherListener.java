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
}
