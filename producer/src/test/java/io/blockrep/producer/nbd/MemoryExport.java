package io.blockrep.producer.nbd;

import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory export for tests. Completes inline unless {@link #holdWrites()} is on: then each
 * write is parked until the test completes it with {@link #releaseWrite(int)}, from the test
 * thread, in any order. {@link #failNext} makes the next operation fail with a given exception.
 */
final class MemoryExport implements NbdExport {
    private final String name;
    private final byte[] data;
    private final boolean readOnly;
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger flushes = new AtomicInteger();
    private volatile RuntimeException nextFailure;
    private volatile boolean holdWrites;
    private final List<Runnable> parked = new ArrayList<>();

    MemoryExport(String name, int size, boolean readOnly) {
        this.name = name;
        this.data = new byte[size];
        this.readOnly = readOnly;
    }

    void failNext(RuntimeException failure) {
        nextFailure = failure;
    }

    void holdWrites() {
        holdWrites = true;
    }

    synchronized int parkedWrites() {
        return parked.size();
    }

    void releaseWrite(int index) {
        Runnable r;
        synchronized (this) {
            r = parked.get(index);
        }
        r.run();
    }

    synchronized byte[] bytes(int offset, int length) {
        byte[] out = new byte[length];
        System.arraycopy(data, offset, out, 0, length);
        return out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return op(() -> {
            synchronized (this) {
                dst.put(data, (int) offset, dst.remaining());
            }
        });
    }

    @Override
    public CompletionStage<Void> write(long offset, ByteBuffer src, boolean fua) {
        Op write = () -> {
            synchronized (this) {
                src.get(data, (int) offset, src.remaining());
            }
            writes.incrementAndGet();
            if (fua) {
                flushes.incrementAndGet();
            }
        };
        if (!holdWrites) {
            return op(write);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (this) {
            parked.add(() -> op(write).whenComplete((v, e) -> done.complete(null)));
        }
        return done;
    }

    @Override
    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        return op(() -> {
            synchronized (this) {
                java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
            }
        });
    }

    @Override
    public CompletionStage<Void> trim(long offset, long length) {
        return op(() -> { });
    }

    @Override
    public CompletionStage<Void> flush() {
        return op(flushes::incrementAndGet);
    }

    private interface Op {
        void run() throws IOException;
    }

    private CompletionStage<Void> op(Op op) {
        RuntimeException failure = nextFailure;
        if (failure != null) {
            nextFailure = null;
            return CompletableFuture.failedFuture(failure);
        }
        try {
            op.run();
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    static InvalidInputException invalid() {
        return new InvalidInputException("refused by test");
    }
}
