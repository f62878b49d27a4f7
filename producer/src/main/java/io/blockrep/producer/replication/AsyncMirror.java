package io.blockrep.producer.replication;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded queue of an async REPLICATING volume ({@code producer.link.sync.mode=async}): copies of
 * writes the client was already told are done, on their way to the peer.
 *
 * <p>Order. Entries are sent in the order they were queued (a write is queued before its local
 * write runs, so before it is acknowledged: a later overlapping write is always queued after it).
 * On top of the link's own ordering, an entry is not sent while a sent, unacknowledged write
 * overlaps it, and a FLUSH is a barrier: it is sent once everything queued before it is
 * acknowledged, and nothing queued after it is sent before the peer acknowledged the flush. So the
 * replica always holds a prefix of the acknowledged writes, whatever the {@link ReplicaSink} does
 * with pipelined requests.
 *
 * <p>Never block, never lose. Queueing copies the data into a pooled buffer and returns; sending
 * runs on {@code dispatcher} (a serial executor), so a link that applies backpressure blocks a pool
 * thread, never the writer. A write that does not fit ({@code queueBytes}), a lag past
 * {@code maxLag}, or any failed send (link down, ack timeout, refusal, an error on the peer) drops
 * the whole queue: the volume leaves REPLICATING first, then the regions of every queued and
 * unacknowledged write are marked dirty (the hot regions too when a FLUSH was dropped, as the sync
 * path does for a failed peer flush), and only then does each entry's {@code settled} stage
 * complete. The write path keeps a mirrored write admitted (in flight, its regions hot in the
 * activity log) until its entry is settled, so a crash with a full queue leaves those regions hot
 * on disk, and recovery turns hot into dirty.
 *
 * <p>Thread-safety: every method may be called from any thread; state is guarded by {@link #lock},
 * and nothing under it calls the sink, a mark or a stage's dependents.
 */
final class AsyncMirror {
    private static final Logger LOG = LoggerFactory.getLogger(AsyncMirror.class);

    /** How entries reach the peer, and what a dropped queue does to the volume. */
    interface Peer {
        CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua);

        CompletionStage<Void> zeroes(long offset, long length, boolean fua);

        CompletionStage<Void> flush();

        /** Leaves REPLICATING (before any mark). */
        void leaveReplicating(String why);

        /** Marks a range dirty durably. */
        CompletionStage<?> markDirty(long offset, long length);

        /** Marks every hot region dirty durably. */
        CompletionStage<?> markHotDirty();
    }

    private enum Kind { WRITE, ZEROES, FLUSH }

    private static final class Entry {
        final Kind kind;
        final long offset;
        final long length;
        final boolean fua;
        final long queuedMillis;
        final CompletableFuture<Void> settled = new CompletableFuture<>();
        ByteBuffer data;
        boolean sent;
        boolean dropped;

        Entry(Kind kind, long offset, long length, boolean fua, ByteBuffer data, long queuedMillis) {
            this.kind = kind;
            this.offset = offset;
            this.length = length;
            this.fua = fua;
            this.data = data;
            this.queuedMillis = queuedMillis;
        }

        long end() {
            return offset + length;
        }
    }

    private final String name;
    private final Peer peer;
    private final long queueBytes;
    private final Duration maxLag;
    private final Clock clock;
    private final ModeTimer timer;
    private final Executor dispatcher;
    private final BufferPool pool;
    private final Object lock = new Object();
    /** Every entry not yet settled, oldest first. */
    private final LinkedHashSet<Entry> unacked = new LinkedHashSet<>();
    /** Entries not sent yet, in queue order. */
    private final ArrayDeque<Entry> unsent = new ArrayDeque<>();
    /** Sent, unacknowledged writes and zeroes by offset; they never overlap each other. */
    private final TreeMap<Long, Entry> sentWrites = new TreeMap<>();
    private Entry sentFlush;
    /** Dropped entries whose marks are not durable yet. */
    private final java.util.Set<Entry> dropping = new java.util.HashSet<>();
    private long bufferedBytes;
    private long lagBytes;
    private long lagWrites;
    private long highWaterBytes;
    private long overflows;
    private long drops;
    private boolean pumpScheduled;
    private boolean lagTimerArmed;

    AsyncMirror(String name, Peer peer, ReplicatedVolume.MirrorPolicy policy, Clock clock, ModeTimer timer, Executor dispatcher) {
        this.name = name;
        this.peer = peer;
        this.queueBytes = policy.queueBytes();
        this.maxLag = policy.maxLag();
        this.clock = clock;
        this.timer = timer;
        this.dispatcher = new SerialExecutor(dispatcher, "async mirror of volume " + name);
        this.pool = new BufferPool(policy.queueBytes());
    }

    MirrorLag stats() {
        synchronized (lock) {
            double age = unacked.isEmpty() ? 0 : Math.max(0, clock.millis() - unacked.iterator().next().queuedMillis) / 1000.0;
            return new MirrorLag(lagBytes, lagWrites, age, highWaterBytes, queueBytes, overflows, drops);
        }
    }

    /** Whether a write or zeroes overlapping {@code [offset, +length)} is queued or being marked (for tests' invariant checks). */
    boolean holds(long offset, long length) {
        synchronized (lock) {
            for (java.util.Collection<Entry> c : List.of(unacked, dropping)) {
                for (Entry e : c) {
                    if (e.kind != Kind.FLUSH && e.offset < offset + length && offset < e.end()) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    // ---------------------------------------------------------------- queueing

    /** Queues a copy of {@code data}; the stage completes when the peer has it or its regions are dirty. Never fails. */
    CompletableFuture<Void> write(long offset, ByteBuffer data, boolean fua) {
        int length = data.remaining();
        Entry over = null;
        String why = null;
        synchronized (lock) {
            if (bufferedBytes + length > queueBytes) {
                over = new Entry(Kind.WRITE, offset, length, fua, null, clock.millis());
                unacked.add(over);
                lagBytes += length;
                lagWrites++;
                highWaterBytes = Math.max(highWaterBytes, lagBytes);
                overflows++;
                why = "async queue full: " + (bufferedBytes + length) + " bytes would exceed producer.link.async.queue.bytes ("
                        + queueBytes + ")";
            } else {
                bufferedBytes += length; // reserved before the copy, so concurrent writers cannot overshoot the cap
            }
        }
        if (over != null) {
            drop(why, true);
            return over.settled;
        }
        ByteBuffer copy = pool.copyOf(data);
        return queue(new Entry(Kind.WRITE, offset, length, fua, copy, clock.millis()));
    }

    /** Queues zeroes; they hold no buffer, so they count in the lag but not against the queue's byte cap. */
    CompletableFuture<Void> zeroes(long offset, long length, boolean fua) {
        return queue(new Entry(Kind.ZEROES, offset, length, fua, null, clock.millis()));
    }

    /** Queues a barrier: the peer flushes once it has everything queued before it. */
    CompletableFuture<Void> flush() {
        return queue(new Entry(Kind.FLUSH, 0, 0, false, null, clock.millis()));
    }

    private CompletableFuture<Void> queue(Entry e) {
        String lagged = null;
        synchronized (lock) {
            if (!unacked.isEmpty() && !maxLag.isZero()) {
                long age = e.queuedMillis - unacked.iterator().next().queuedMillis;
                if (age > maxLag.toMillis()) {
                    lagged = "async lag " + age + " ms exceeds producer.link.async.max.lag (" + maxLag.toMillis() + " ms)";
                }
            }
            unacked.add(e);
            unsent.add(e);
            if (e.kind != Kind.FLUSH) {
                lagBytes += e.length;
                lagWrites++;
                highWaterBytes = Math.max(highWaterBytes, lagBytes);
            }
            armLagTimer();
            schedulePump();
        }
        if (lagged != null) {
            drop(lagged, false);
        }
        return e.settled;
    }

    // ---------------------------------------------------------------- sending

    private void schedulePump() {
        if (!pumpScheduled) {
            pumpScheduled = true;
            dispatcher.execute(this::pump);
        }
    }

    /** Sends what order allows, in queue order. Runs on the serial dispatcher only. */
    private void pump() {
        List<Entry> send = new ArrayList<>();
        synchronized (lock) {
            pumpScheduled = false;
            while (!unsent.isEmpty() && sentFlush == null) {
                Entry head = unsent.peekFirst();
                if (head.kind == Kind.FLUSH ? !sentWrites.isEmpty() : overlapsSent(head)) {
                    break;
                }
                unsent.pollFirst();
                head.sent = true;
                if (head.kind == Kind.FLUSH) {
                    sentFlush = head;
                } else {
                    sentWrites.put(head.offset, head);
                }
                send.add(head);
            }
        }
        for (Entry e : send) {
            CompletionStage<Void> stage;
            try {
                stage = switch (e.kind) {
                    case WRITE -> peer.write(e.offset, e.data.duplicate(), e.fua);
                    case ZEROES -> peer.zeroes(e.offset, e.length, e.fua);
                    case FLUSH -> peer.flush();
                };
            } catch (RuntimeException ex) {
                stage = CompletableFuture.failedFuture(ex);
            }
            stage.whenComplete((v, ex) -> answered(e, ex));
        }
    }

    private boolean overlapsSent(Entry e) {
        Map.Entry<Long, Entry> before = sentWrites.lowerEntry(e.end());
        return before != null && before.getValue().end() > e.offset;
    }

    /** The peer answered an entry (any thread). */
    private void answered(Entry e, Throwable error) {
        synchronized (lock) {
            if (e.dropped) {
                release(e); // the queue was dropped while it was on the wire; its regions are dirty
                return;
            }
            if (error == null) {
                settleAcked(e);
                if (!unsent.isEmpty()) {
                    schedulePump();
                }
            }
        }
        if (error == null) {
            e.settled.complete(null);
        } else {
            drop("async copy failed on the peer: " + VolumeRoles.unwrap(error), false);
        }
    }

    /** Under lock. */
    private void settleAcked(Entry e) {
        unacked.remove(e);
        if (e.kind == Kind.FLUSH) {
            sentFlush = null;
        } else {
            sentWrites.remove(e.offset);
            lagBytes -= e.length;
            lagWrites--;
        }
        release(e);
    }

    /** Under lock: gives a sent or dropped entry's buffer back. */
    private void release(Entry e) {
        if (e.data != null) {
            bufferedBytes -= e.data.remaining();
            pool.give(e.data);
            e.data = null;
        }
    }

    // ---------------------------------------------------------------- lag bound

    /** Under lock: a check of the oldest entry's age once max.lag passed (0 = no age bound). */
    private void armLagTimer() {
        if (lagTimerArmed || maxLag.isZero() || unacked.isEmpty()) {
            return;
        }
        long age = clock.millis() - unacked.iterator().next().queuedMillis;
        lagTimerArmed = true;
        timer.schedule(this::checkLag, Duration.ofMillis(Math.max(1, maxLag.toMillis() - age + 1)));
    }

    private void checkLag() {
        String why = null;
        synchronized (lock) {
            lagTimerArmed = false;
            if (unacked.isEmpty()) {
                return;
            }
            long age = clock.millis() - unacked.iterator().next().queuedMillis;
            if (age > maxLag.toMillis()) {
                why = "async lag " + age + " ms exceeds producer.link.async.max.lag (" + maxLag.toMillis() + " ms)";
            } else {
                armLagTimer();
            }
        }
        if (why != null) {
            drop(why, false);
        }
    }

    // ---------------------------------------------------------------- dropping the queue

    /**
     * Drops every unsettled entry: LOGGING first, then their regions dirty, then each entry settles.
     * Writes on the wire keep their buffers until the peer answers.
     */
    private void drop(String why, boolean overflowed) {
        List<Entry> dropped;
        synchronized (lock) {
            if (unacked.isEmpty()) {
                return;
            }
            dropped = new ArrayList<>(unacked);
            unacked.clear();
            unsent.clear();
            sentWrites.clear();
            sentFlush = null;
            lagBytes = 0;
            lagWrites = 0;
            drops++;
            dropping.addAll(dropped);
            for (Entry e : dropped) {
                e.dropped = true;
                if (!e.sent) {
                    release(e);
                }
            }
        }
        LOG.warn("volume {}: {}; {} queued write(s) marked dirty, LOGGING until the resync{}", name, why,
                dropped.stream().filter(e -> e.kind != Kind.FLUSH).count(), overflowed ? " (overflow)" : "");
        peer.leaveReplicating(why);
        boolean flushDropped = false;
        for (Entry e : dropped) {
            if (e.kind == Kind.FLUSH) {
                flushDropped = true;
            } else {
                peer.markDirty(e.offset, e.length).whenComplete((r, ex) -> settleDropped(e, ex));
            }
        }
        if (flushDropped) {
            CompletionStage<?> hot = peer.markHotDirty();
            for (Entry e : dropped) {
                if (e.kind == Kind.FLUSH) {
                    hot.whenComplete((r, ex) -> settleDropped(e, ex));
                }
            }
        }
    }

    private void settleDropped(Entry e, Throwable markError) {
        synchronized (lock) {
            dropping.remove(e);
        }
        if (markError != null) {
            // The region stays hot in the activity log (hot before it was queued): a restart makes it dirty.
            LOG.error("volume {}: cannot mark [{}, +{}) dirty after the async queue was dropped: {}", name, e.offset, e.length,
                    markError.toString());
        }
        e.settled.complete(null);
    }
}
