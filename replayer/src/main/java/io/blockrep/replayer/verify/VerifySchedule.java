package io.blockrep.replayer.verify;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * When each owned volume is next due for a scheduled verify: one interval after this instance first
 * owned it, then one interval after its last finished verify (here or anywhere the facility recorded
 * one). A volume that could not be verified when due (not REPLICATING, resyncing, a facility
 * unreachable) is postponed by {@link #retryDelay()}. Pure bookkeeping over times passed in; not
 * thread-safe (the verifier's thread owns it).
 */
final class VerifySchedule {
    /** Longest wait before a postponed volume is looked at again. */
    static final Duration MAX_RETRY = Duration.ofMinutes(1);

    private final long intervalMillis;
    private final Map<String, Long> dueMillis = new HashMap<>();

    VerifySchedule(Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("a verify interval must be positive, not " + interval);
        }
        this.intervalMillis = interval.toMillis();
    }

    /** How long a postponed volume waits: the interval, at most {@link #MAX_RETRY}. */
    Duration retryDelay() {
        return Duration.ofMillis(Math.min(intervalMillis, MAX_RETRY.toMillis()));
    }

    /**
     * Takes the owned volumes now: a newly owned one is due one interval from {@code nowMillis}, one
     * no longer owned is forgotten. Returns the owned volumes that are due, in id order.
     */
    List<String> due(Collection<String> owned, long nowMillis) {
        dueMillis.keySet().retainAll(owned);
        for (String v : owned) {
            dueMillis.putIfAbsent(v, nowMillis + intervalMillis);
        }
        return new TreeSet<>(owned).stream().filter(v -> dueMillis.get(v) <= nowMillis).toList();
    }

    /** A verify of {@code volume} finished at {@code finishedMillis} (here, or as the facility recorded it): next one an interval later. */
    void verified(String volume, long finishedMillis) {
        dueMillis.put(volume, finishedMillis + intervalMillis);
    }

    /** {@code volume} could not be verified now: look again after {@link #retryDelay()}. */
    void postpone(String volume, long nowMillis) {
        dueMillis.put(volume, nowMillis + retryDelay().toMillis());
    }

    /** When {@code volume} is next due (epoch millis), or -1 when it is not owned. */
    long dueMillis(String volume) {
        return dueMillis.getOrDefault(volume, -1L);
    }
}
