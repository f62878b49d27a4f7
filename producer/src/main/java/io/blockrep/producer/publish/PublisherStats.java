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
 * @param restarts         restarts of the publisher's loop after unexpected failures
 */
public record PublisherStats(boolean kafkaReachable, long backlogRegions, long recordsSent, long recordsAcked,
                             long hintsDropped, Optional<Throwable> lastError, boolean fatal, Restarts restarts) {

    /**
     * Restarts of the publisher's loop.
     *
     * @param count      restarts since the publisher started
     * @param attempt    consecutive restarts so far (0 before the first; see {@link RestartingLoop})
     * @param inProgress true from a failure of the loop until the restarted loop has rebuilt from Kafka and publishes again
     * @param lastCrash  the failure that caused the last restart
     */
    public record Restarts(long count, int attempt, boolean inProgress, Optional<Throwable> lastCrash) {
        public static final Restarts NONE = new Restarts(0, 0, false, Optional.empty());
    }

    /**
     * One phrase for status: {@code REACHABLE}, {@code UNREACHABLE}, {@code RESTARTING (attempt n, last error …)}
     * or {@code FAILED: …}.
     */
    public String summary() {
        if (fatal) {
            return "FAILED: " + lastError.map(Throwable::getMessage).orElse("?");
        }
        if (restarts.inProgress()) {
            return "RESTARTING (attempt " + restarts.attempt() + ", last error "
                    + restarts.lastCrash().map(Throwable::toString).orElse("?") + ")";
        }
        return kafkaReachable ? "REACHABLE" : "UNREACHABLE";
    }
}
