package io.blockrep.producer.replication;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** A clock that moves only when a timer is fired, and the {@link ModeTimer} on it. Single-threaded use. */
final class ManualTimer extends Clock implements ModeTimer {
    private static final class Task implements Scheduled {
        final long due;
        final Runnable run;
        boolean cancelled;

        Task(long due, Runnable run) {
            this.due = due;
            this.run = run;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    private long now = 1_700_000_000_000L;
    private final List<Task> tasks = new ArrayList<>();

    @Override
    public Scheduled schedule(Runnable task, Duration delay) {
        Task t = new Task(now + delay.toMillis(), task);
        tasks.add(t);
        return t;
    }

    int scheduled() {
        tasks.removeIf(t -> t.cancelled);
        return tasks.size();
    }

    /** Moves the clock to the earliest live task and runs it; false when none is scheduled. */
    boolean fireNext() {
        tasks.removeIf(t -> t.cancelled);
        Optional<Task> next = tasks.stream().min(Comparator.comparingLong(t -> t.due));
        if (next.isEmpty()) {
            return false;
        }
        Task t = next.get();
        tasks.remove(t);
        now = Math.max(now, t.due);
        t.run.run();
        return true;
    }

    void advance(long millis) {
        now += millis;
    }

    @Override
    public long millis() {
        return now;
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(now);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
