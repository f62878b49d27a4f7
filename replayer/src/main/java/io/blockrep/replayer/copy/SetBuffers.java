package io.blockrep.replayer.copy;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Reused heap buffers that hold one data set's bytes from the source's read until the target applied
 * it. Without them every extent read became its own array, most of them larger than the young
 * generation's humongous threshold: the replayer spent a third of a resync in GC pauses and in
 * faulting fresh heap pages in (on a VM whose host hands out memory lazily, first touch costs about
 * 6 ms per MiB here). At most {@code keep} buffers are kept; a copy holds one set in flight, the one
 * it is sending and the one read ahead, so three stay warm (3 × the data set size of heap, plus
 * framing). The service allocates them at start ({@link #warm}); a one-shot job on first use. Thread-safe.
 */
final class SetBuffers {
    private final int keep;
    private final int size;
    private final ConcurrentLinkedDeque<ByteBuffer> free = new ConcurrentLinkedDeque<>();

    /** Buffers of at least {@code size} bytes (larger when a set needs more); {@code keep} of them kept for reuse. */
    SetBuffers(int keep, int size) {
        this.keep = keep;
        this.size = size;
    }

    /** Allocates (and so touches) every kept buffer now, so the first copy does not pay for it. */
    void warm() {
        while (free.size() < keep) {
            free.push(ByteBuffer.allocate(size));
        }
    }

    /** A cleared buffer of at least {@code bytes} bytes: a kept one that is large enough, or a new one. */
    ByteBuffer take(long bytes) {
        if (bytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("a data set of " + bytes + " bytes does not fit one buffer");
        }
        for (Iterator<ByteBuffer> it = free.iterator(); it.hasNext(); ) {
            ByteBuffer b = it.next();
            if (b.capacity() >= bytes && free.removeFirstOccurrence(b)) {
                return b.clear();
            }
        }
        return ByteBuffer.allocate((int) Math.max(bytes, size));
    }

    /** Hands {@code b} back once nothing refers to its bytes any more (the set is applied or abandoned). */
    void give(ByteBuffer b) {
        if (free.size() < keep) {
            free.push(b.clear());
        }
    }
}
