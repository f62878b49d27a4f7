package io.blockrep.producer.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Payload buffers for one connection, reused so steady-state I/O allocates none. Buffers up to
 * 1 MiB are direct (socket and file I/O then copy nothing); larger ones are heap buffers, so a
 * client sending 32 MiB requests cannot exhaust direct memory. At most {@link #MAX_POOLED_BYTES}
 * are kept; beyond that released buffers are left to the garbage collector.
 *
 * <p>Thread-safe: buffers are taken on the reader thread and returned from completions.
 */
final class BufferPool {
    static final long MAX_POOLED_BYTES = 16L * 1024 * 1024;
    private static final int MIN_CAPACITY = 4096;
    private static final int MAX_DIRECT = 1024 * 1024;

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private long pooledBytes;

    /** A buffer with position 0 and limit {@code length}. */
    ByteBuffer acquire(int length) {
        synchronized (this) {
            for (Iterator<ByteBuffer> it = free.iterator(); it.hasNext(); ) {
                ByteBuffer b = it.next();
                if (b.capacity() >= length) {
                    it.remove();
                    pooledBytes -= b.capacity();
                    return b.clear().limit(length);
                }
            }
        }
        int capacity = Math.max(MIN_CAPACITY, Integer.highestOneBit(Math.max(1, length - 1)) << 1);
        if (capacity < length) {
            capacity = length;
        }
        ByteBuffer b = capacity <= MAX_DIRECT ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
        return b.limit(length);
    }

    void release(ByteBuffer buffer) {
        synchronized (this) {
            if (pooledBytes + buffer.capacity() <= MAX_POOLED_BYTES) {
                free.push(buffer);
                pooledBytes += buffer.capacity();
            }
        }
    }
}
