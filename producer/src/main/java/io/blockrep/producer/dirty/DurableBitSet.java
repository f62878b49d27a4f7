package io.blockrep.producer.dirty;

import io.blockrep.common.FatalException;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.roaringbitmap.RoaringBitmap;

/**
 * The group-commit engine behind {@link DirtyBitmap} and {@link ActivityLog}: a {@link BitmapFile}
 * plus a view of the bits known to be on disk, and one flusher thread.
 *
 * <p>Thread-safety: all methods may be called from any thread. {@link #set} sets bits in the
 * file's memory image under a lock and returns at once; the flusher takes every bit set since its
 * last round (a batch), writes the changed 4 KiB pages, forces the file once, then publishes the
 * batch into the durable view and completes its future. So concurrent first touches share one
 * fsync, and a bit is visible through {@link #isDurable} only after it is on disk.
 *
 * <p>Crash-safety order: a future returned by {@link #set} completes only after every bit of its
 * range is durable; callers acknowledge the write that set them only then. A range whose bits are
 * all durable completes immediately, without taking the lock or doing I/O.
 *
 * <p>Failure: an I/O error while flushing fails the batch in flight, every pending batch and every
 * later call with a {@link FatalException}. The set is not retried: after a failed fsync the state
 * of the page cache is unknown, so the caller has to stop or rebuild (see "fsyncgate").
 */
final class DurableBitSet {
    /** Called before each force; a seam for tests that need to hold the flusher. */
    interface FlushHook {
        FlushHook NONE = () -> { };

        void beforeForce() throws IOException, InterruptedException;
    }

    private static final long[] NONE = new long[0];
    private static final CompletableFuture<long[]> ALREADY_DURABLE = CompletableFuture.completedFuture(NONE);

    private final BitmapFile file;
    private final FlushHook hook;
    private final AtomicLongArray durable;
    private final AtomicLong durableCount = new AtomicLong();
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong pagesWritten = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Thread flusher;
    // guarded by lock
    private Batch pending = new Batch();
    private Batch inFlight;
    private FatalException failure;
    private boolean closing;

    private static final class Batch {
        final RoaringBitmap regions = new RoaringBitmap();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        boolean requested;
    }

    DurableBitSet(BitmapFile file, FlushHook hook) {
        this.file = file;
        this.hook = hook;
        this.durable = new AtomicLongArray(file.words());
        durableCount.set(file.cardinality());
        this.flusher = new Thread(this::runFlusher, "bitmap-flusher-" + file.path().getFileName());
        flusher.setDaemon(true);
        flusher.start();
    }

    BitmapFile.Header header() {
        return file.header();
    }

    /**
     * Sets regions {@code first..last}; the future completes with the regions this call newly set
     * (ascending) once every region of the range is durable.
     */
    CompletableFuture<long[]> set(long first, long last) {
        checkRange(first, last);
        if (allDurable(first, last)) {
            return ALREADY_DURABLE;
        }
        lock.lock();
        try {
            if (failure != null || closing) {
                return CompletableFuture.failedFuture(unusable());
            }
            long[] newly = new long[(int) Math.min(last - first + 1, 64)];
            int n = 0;
            boolean waitPending = false;
            boolean waitInFlight = false;
            for (long r = first; r <= last; r++) {
                if (file.set(r)) {
                    if (n == newly.length) {
                        newly = Arrays.copyOf(newly, (int) Math.min(last - first + 1, 2L * n));
                    }
                    newly[n++] = r;
                    pending.regions.add((int) r);
                    waitPending = true;
                } else if (!isDurable(r)) {
                    if (pending.regions.contains((int) r) || inFlight == null) {
                        waitPending = true;
                    } else {
                        waitInFlight = true;
                    }
                }
            }
            CompletableFuture<Void> done;
            if (waitPending) {
                done = requestFlush();
            } else if (waitInFlight) {
                done = inFlight.done;
            } else {
                return ALREADY_DURABLE;
            }
            long[] result = n == newly.length ? newly : Arrays.copyOf(newly, n);
            return done.thenApply(v -> result);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Clears {@code regions} in memory and in the durable view at once, and writes the change. Until
     * the returned future completes the file may still hold some of them, which only over-reports.
     */
    CompletableFuture<Void> clear(RoaringBitmap regions) {
        lock.lock();
        try {
            return clearLocked(regions);
        } finally {
            lock.unlock();
        }
    }

    /** Clears every bit, durable or pending; see {@link #clear}. */
    CompletableFuture<Void> clearAll() {
        lock.lock();
        try {
            return clearLocked(file.toRoaring());
        } finally {
            lock.unlock();
        }
    }

    private CompletableFuture<Void> clearLocked(RoaringBitmap regions) {
        if (failure != null || closing) {
            return CompletableFuture.failedFuture(unusable());
        }
        regions.forEach((int r) -> {
            long region = Integer.toUnsignedLong(r);
            file.clear(region);
            if (isDurable(region)) {
                durable.getAndUpdate((int) (region >>> 6), w -> w & ~(1L << region));
                durableCount.decrementAndGet();
            }
        });
        return requestFlush();
    }

    boolean isDurable(long region) {
        return (durable.get((int) (region >>> 6)) & (1L << region)) != 0;
    }

    long durableCount() {
        return durableCount.get();
    }

    /** A snapshot of the durable bits. */
    RoaringBitmap durableRegions() {
        RoaringBitmap bits = new RoaringBitmap();
        for (int w = 0; w < durable.length(); w++) {
            long v = durable.get(w);
            while (v != 0) {
                bits.add((int) (((long) w << 6) + Long.numberOfTrailingZeros(v)));
                v &= v - 1;
            }
        }
        return bits;
    }

    long forceCount() {
        return forces.get();
    }

    long pagesWritten() {
        return pagesWritten.get();
    }

    /** Flushes what is pending, stops the flusher and closes the file. Idempotent. */
    void close() {
        lock.lock();
        try {
            closing = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        joinFlusher();
        file.close();
        lock.lock();
        try {
            if (failure != null) {
                throw failure;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops without flushing, as a killed process would. For crash tests. */
    void abandon() {
        lock.lock();
        try {
            closing = true;
            failure = new FatalException("bitmap " + file.path() + " was abandoned");
            work.signalAll();
        } finally {
            lock.unlock();
        }
        flusher.interrupt();
        joinFlusher();
        file.close();
    }

    private CompletableFuture<Void> requestFlush() {
        pending.requested = true;
        work.signal();
        return pending.done;
    }

    private void runFlusher() {
        while (true) {
            Batch batch;
            BitmapFile.PageImage pages;
            lock.lock();
            try {
                while (!pending.requested && !closing) {
                    work.awaitUninterruptibly();
                }
                if (failure != null || !pending.requested) {
                    failOutstanding();
                    return;
                }
                batch = pending;
                pending = new Batch();
                inFlight = batch;
                pages = file.snapshotChangedPages();
            } finally {
                lock.unlock();
            }
            try {
                file.writePages(pages);
                hook.beforeForce();
                file.force();
                forces.incrementAndGet();
                pagesWritten.addAndGet(pages.count());
            } catch (Exception e) {
                lock.lock();
                try {
                    if (failure == null) {
                        failure = new FatalException("cannot flush bitmap " + file.path() + ": " + e, e);
                    }
                    failOutstanding();
                } finally {
                    lock.unlock();
                }
                return;
            }
            lock.lock();
            try {
                batch.regions.forEach((int r) -> {
                    long region = Integer.toUnsignedLong(r);
                    // a region cleared meanwhile stays clear
                    if (file.get(region) && !isDurable(region)) {
                        durable.getAndUpdate((int) (region >>> 6), w -> w | (1L << region));
                        durableCount.incrementAndGet();
                    }
                });
                inFlight = null;
            } finally {
                lock.unlock();
            }
            batch.done.complete(null);
        }
    }

    /** Fails the batches not yet durable; called with the lock held. */
    private void failOutstanding() {
        FatalException e = unusable();
        if (inFlight != null) {
            inFlight.done.completeExceptionally(e);
            inFlight = null;
        }
        pending.done.completeExceptionally(e);
    }

    private FatalException unusable() {
        return failure != null ? failure : new FatalException("bitmap " + file.path() + " is closed");
    }

    private boolean allDurable(long first, long last) {
        for (long r = first; r <= last; r++) {
            if (!isDurable(r)) {
                return false;
            }
        }
        return true;
    }

    private void checkRange(long first, long last) {
        if (first < 0 || last < first || last >= file.regionCount()) {
            throw new IndexOutOfBoundsException("regions " + first + ".." + last + " outside 0.."
                    + (file.regionCount() - 1) + " of " + file.path());
        }
    }

    private void joinFlusher() {
        boolean interrupted = false;
        while (flusher.isAlive()) {
            try {
                flusher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
