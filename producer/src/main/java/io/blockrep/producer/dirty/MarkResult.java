package io.blockrep.producer.dirty;

import java.util.Arrays;
import java.util.stream.LongStream;

/**
 * What a durable mark did: the era it was recorded in and the regions it set for the first time in
 * that era. The caller queues exactly one dirty record per first touch. Immutable.
 */
public final class MarkResult {
    private final long era;
    private final long[] firstTouches;

    /** A mark's result: {@code firstTouches} are the regions it set first in {@code era} (for implementations of {@link DirtyLog}). */
    public static MarkResult of(long era, long[] firstTouches) {
        return new MarkResult(era, firstTouches.clone());
    }

    MarkResult(long era, long[] firstTouches) {
        this.era = era;
        this.firstTouches = firstTouches;
    }

    public long era() {
        return era;
    }

    /** Regions this mark set first in {@link #era()}, ascending within each marked range. */
    public LongStream firstTouches() {
        return Arrays.stream(firstTouches);
    }

    public int firstTouchCount() {
        return firstTouches.length;
    }

    static MarkResult merge(long era, MarkResult a, MarkResult b) {
        if (a.firstTouches.length == 0) {
            return b;
        }
        if (b.firstTouches.length == 0) {
            return a;
        }
        long[] both = Arrays.copyOf(a.firstTouches, a.firstTouches.length + b.firstTouches.length);
        System.arraycopy(b.firstTouches, 0, both, a.firstTouches.length, b.firstTouches.length);
        return new MarkResult(era, both);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MarkResult m && m.era == era && Arrays.equals(m.firstTouches, firstTouches);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(era) * 31 + Arrays.hashCode(firstTouches);
    }

    @Override
    public String toString() {
        return "MarkResult[era=" + era + ", firstTouches=" + Arrays.toString(firstTouches) + "]";
    }
}
