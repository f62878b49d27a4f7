package io.blockrep.producer.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An export whose every operation completes on one shared thread, named {@code test-flusher}, the way
 * a volume's writes complete on its bitmap flusher or link receiver. It records the longest time that
 * thread spent completing one operation (that is, inside the server's completion callbacks), and how
 * long the task it is running now has been running, so a test can assert that no client can block it.
 */
final class FlusherExport implements NbdExport, AutoCloseable {
    private final MemoryExport memory;
    private final ExecutorService flusher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-flusher");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong longestNanos = new AtomicLong();
    private volatile long busySince;

    FlusherExport(String name, int size) {
        this.memory = new MemoryExport(name, size, false);
    }

    /** The longest completion so far, or the current one if it is longer (a thread stuck in it). */
    long longestCompletionMillis() {
        long since = busySince;
        long current = since == 0 ? 0 : System.nanoTime() - since;
        return Math.max(longestNanos.get(), current) / 1_000_000;
    }

    private CompletionStage<Void> onFlusher(CompletionStage<Void> op) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        op.whenComplete((v, e) -> flusher.execute(() -> {
            long start = System.nanoTime();
            busySince = start;
            try {
                if (e == null) {
                    done.complete(null);
                } else {
                    done.completeExceptionally(e);
                }
            } finally {
                busySince = 0;
                longestNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
            }
        }));
        return done;
    }

    @Override
    public String name() {
        return memory.name();
    }

    @Override
    public long size() {
        return memory.size();
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return onFlusher(memory.read(offset, dst));
    }

    @Override
    public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        return onFlusher(memory.write(offset, data, fua));
    }

    @Override
    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        return onFlusher(memory.writeZeroes(offset, length, fua));
    }

    @Override
    public CompletionStage<Void> trim(long offset, long length) {
        return onFlusher(memory.trim(offset, length));
    }

    @Override
    public CompletionStage<Void> flush() {
        return onFlusher(memory.flush());
    }

    @Override
    public void close() {
        flusher.shutdownNow();
    }
}
