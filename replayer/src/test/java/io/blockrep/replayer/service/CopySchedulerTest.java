package io.blockrep.replayer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.replayer.ReplayerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The many-volumes scheduler on a step clock: bounded (never more turns than workers, never one
 * volume twice at once), fair (a volume that becomes ready goes before volumes already served, so a
 * small resync is not queued behind large ones), and the per-volume limit delays the volume's next
 * turn instead of a worker.
 */
class CopySchedulerTest {
    private static final long MIB = 1L << 20;
    private static final Duration IDLE = Duration.ofMillis(10);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private CopyScheduler scheduler(int concurrency, long slice, Map<String, Long> rates) {
        return new CopyScheduler(new ReplayerConfig.Copying(concurrency, slice, rates), now::get, IDLE, RETRY);
    }

    @Test
    void neverMoreTurnsThanWorkersAndNeverOneVolumeTwice() {
        CopyScheduler s = scheduler(2, 64 * MIB, Map.of());
        List<String> ready = List.of("a", "b", "c", "d");
        assertThat(s.pick(ready)).containsExactly("a", "b");
        assertThat(s.pick(ready)).as("both workers busy").isEmpty();
        assertThat(s.hasFreeWorker()).isFalse();
        s.done("a", CopyScheduler.Outcome.WORKED, 64 * MIB);
        assertThat(s.pick(ready)).as("one free worker; c was never served, a just was").containsExactly("c");
        assertThat(s.pick(List.of("b", "c"))).as("b and c are running").isEmpty();
        assertThat(s.running()).isEqualTo(2);
    }

    @Test
    void aVolumeThatBecomesReadyGoesBeforeTheLargeCopiesAlreadyUnderWay() {
        CopyScheduler s = scheduler(1, 64 * MIB, Map.of());
        List<String> big = List.of("big-1", "big-2");
        assertThat(s.pick(big)).containsExactly("big-1");
        s.done("big-1", CopyScheduler.Outcome.WORKED, 64 * MIB);
        assertThat(s.pick(big)).containsExactly("big-2");
        s.done("big-2", CopyScheduler.Outcome.WORKED, 64 * MIB);
        // The small volume's era closes now, listed last in the configuration: it still goes first.
        assertThat(s.pick(List.of("big-1", "big-2", "small"))).containsExactly("small");
        s.done("small", CopyScheduler.Outcome.WORKED, MIB);
        assertThat(s.pick(List.of("big-1", "big-2", "small"))).as("then round robin: served longest ago").containsExactly("big-1");
    }

    @Test
    void aSmallResyncAmongLargeOnesFinishesFirstAndWithinOneRoundOfSlices() {
        // 8 volumes dirtied at once, 4 workers, 64 MiB slices at 100 MiB/s per worker: seven of 100 MiB
        // and one of 4 MiB listed last. Discrete-event run of the scheduler: who finishes when.
        long slice = 64 * MIB;
        CopyScheduler s = scheduler(4, slice, Map.of());
        Map<String, Long> left = new LinkedHashMap<>();
        for (int i = 1; i <= 7; i++) {
            left.put("big-" + i, 100 * MIB);
        }
        left.put("small", 4 * MIB);
        Map<String, Long> finishedAt = new HashMap<>();
        record Turn(long end, String volume, long bytes) { }
        PriorityQueue<Turn> turns = new PriorityQueue<>((x, y) -> Long.compare(x.end(), y.end()));
        int maxRunning = 0;
        long start = now.get();
        while (finishedAt.size() < left.size()) {
            List<String> ready = left.entrySet().stream().filter(e -> e.getValue() > 0).map(Map.Entry::getKey).toList();
            for (String v : s.pick(ready)) {
                long bytes = Math.min(slice, left.get(v));
                turns.add(new Turn(now.get() + bytes * 1_000_000_000L / (100 * MIB), v, bytes));
            }
            maxRunning = Math.max(maxRunning, s.running());
            Turn t = turns.poll();
            now.set(t.end());
            left.merge(t.volume(), -t.bytes(), Long::sum);
            if (left.get(t.volume()) == 0) {
                finishedAt.put(t.volume(), now.get() - start);
            }
            s.done(t.volume(), CopyScheduler.Outcome.WORKED, t.bytes());
        }
        assertThat(maxRunning).isEqualTo(4);
        long small = finishedAt.get("small");
        assertThat(finishedAt.values()).allMatch(t -> t >= small);
        // It waited for one slice of a worker at most (640 ms), then copied its 4 MiB (40 ms).
        assertThat(small).isLessThanOrEqualTo(680_000_000L);
    }

    @Test
    void aVolumesOwnLimitDelaysItsNextTurnNotAWorker() {
        CopyScheduler s = scheduler(2, 64 * MIB, Map.of("slow", 8 * MIB));
        assertThat(s.sliceBytes("slow")).as("one second of its rate per turn").isEqualTo(8 * MIB);
        assertThat(s.sliceBytes("fast")).isEqualTo(64 * MIB);
        List<String> ready = List.of("slow", "fast");
        assertThat(s.pick(ready)).containsExactly("slow", "fast");
        s.done("slow", CopyScheduler.Outcome.WORKED, 8 * MIB);   // the burst: its bucket is empty now
        s.done("fast", CopyScheduler.Outcome.WORKED, 64 * MIB);
        assertThat(s.pick(ready)).containsExactly("slow", "fast");
        s.done("slow", CopyScheduler.Outcome.WORKED, 8 * MIB);   // one second in debt
        s.done("fast", CopyScheduler.Outcome.WORKED, 64 * MIB);
        assertThat(s.pick(ready)).as("the free worker goes to the unlimited volume").containsExactly("fast");
        s.done("fast", CopyScheduler.Outcome.WORKED, 64 * MIB);
        now.addAndGet(Duration.ofMillis(999).toNanos());
        assertThat(s.pick(List.of("slow"))).isEmpty();
        now.addAndGet(Duration.ofMillis(1).toNanos());
        assertThat(s.pick(List.of("slow"))).containsExactly("slow");
    }

    @Test
    void anIdleVolumeIsLookedAtAgainAfterARoundAndAFailedOneAfterTheRetryDelay() {
        CopyScheduler s = scheduler(4, 64 * MIB, Map.of());
        assertThat(s.pick(List.of("idle", "failing"))).containsExactly("idle", "failing");
        s.done("idle", CopyScheduler.Outcome.IDLE, 0);
        s.done("failing", CopyScheduler.Outcome.FAILED, 0);
        assertThat(s.pick(List.of("idle", "failing"))).isEmpty();
        now.addAndGet(IDLE.toNanos());
        assertThat(s.pick(List.of("idle", "failing"))).containsExactly("idle");
        s.done("idle", CopyScheduler.Outcome.IDLE, 0);
        now.addAndGet(RETRY.toNanos());
        List<String> picked = new ArrayList<>(s.pick(List.of("idle", "failing")));
        assertThat(picked).containsExactlyInAnyOrder("idle", "failing");
    }
}
