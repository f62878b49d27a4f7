package io.blockrep.producer.publish;

import java.util.Optional;

/**
 * A snapshot of {@link DirtyPublisher}'s state for the status API.
 *
 * @param kafkaReachable   false from the first failed Kafka operation (a send, a connect, or the periodic cluster
 *                         probe, which notices a broker gone while nothing is sent) until Kafka answers again
 * @param backlogRegions   regions dirty locally whose record Kafka has not acknowledged yet
 * @param recordsSent      dirty and era-closed records handed to the Kafka producer
 * @param recordsAcked     of those, the ones Kafka acknowledged
 * @param hintsDropped     first-touch hints dropped on a full queue (their regions are published from the bitmap)
 * @param lastError        the most recent failure, if any
 * @param fatal            true when the publisher stopped for good; {@code lastError} says why
 */
public record PublisherStats(boolean kafkaReachable, long backlogRegions, long recordsSent, long recordsAcked,
                             long hintsDropped, Optional<Throwable> lastError, boolean fatal) {
}
