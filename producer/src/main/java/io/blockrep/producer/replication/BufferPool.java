package io.blockrep.producer.replication;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Reusable direct buffers for the async mirror's copies of client writes, in power-of-two size
 * classes from 4 KiB. Fresh pages are expensive (the kernel zeroes and maps them on first touch),
 * so a buffer given back is kept for the next copy, up to {@code retainBytes} in all; beyond that it
 * is left to the GC. Thread-safe (one lock; take and give are O(1)).
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int CLASSES = 31 - MIN_SHIFT;

    private final long retainBytes;
    private final ArrayDeque<ByteBuffer>[] free;
    private long retained;

    @SuppressWarnings("unchecked")
    BufferPool(long retainBytes) {
        this.retainBytes = retainBytes;
        this.free = new ArrayDeque[CLASSES];
        for (int i = 0; i < CLASSES; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    /** A copy of {@code src}'s remaining bytes (src's position is unchanged), in a pooled buffer flipped for reading. */
    ByteBuffer copyOf(ByteBuffer src) {
        ByteBuffer b = take(src.remaining());
        b.put(src.duplicate()).flip();
        return b;
    }

    /** A cleared buffer of capacity at least {@code length}, its limit set to {@code length}. */
    ByteBuffer take(int length) {
        int c = sizeClass(length);
        ByteBuffer b;
        synchronized (this) {
            b = free[c].pollFirst();
            if (b != null) {
                retained -= b.capacity();
            }
        }
        if (b == null) {
            b = ByteBuffer.allocateDirect(1 << (c + MIN_SHIFT));
        }
        b.clear().limit(length);
        return b;
    }

    void give(ByteBuffer b) {
        int c = sizeClass(b.capacity());
        if (b.capacity() != 1 << (c + MIN_SHIFT)) {
            return; // not one of ours
        }
        synchronized (this) {
            if (retained + b.capacity() <= retainBytes) {
                free[c].addFirst(b);
                retained += b.capacity();
            }
        }
    }

    synchronized long retainedBytes() {
        return retained;
    }

    private static int sizeClass(int length) {
        int bits = 32 - Integer.numberOfLeadingZeros(Math.max(1, length) - 1);
        return Math.max(0, bits - MIN_SHIFT);
    }
}
