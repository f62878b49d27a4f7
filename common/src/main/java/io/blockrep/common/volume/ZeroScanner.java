package io.blockrep.common.volume;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * Finds the regions of a volume that hold a non-zero byte: the regions an initial sync must copy.
 * Holes and regions of zeros are skipped. Java has no {@code SEEK_DATA}, so the whole range is read
 * (a hole reads as zeros, cheaply) in chunks of {@link #CHUNK} bytes into one buffer allocated with
 * the scanner and reused for every chunk; a region is dropped from the scan at its first non-zero
 * byte. The comparison is {@link ByteBuffer#mismatch}, which the JDK vectorises.
 *
 * <p>Not thread-safe: one scanner per scanning thread (it owns its buffers).
 */
public final class ZeroScanner {
    public static final int CHUNK = 1 << 20;

    /** Where the bytes come from: a {@link Volume}, or a channel on a backing file. */
    @FunctionalInterface
    public interface Source {
        /** Fills {@code dst} (all of its remaining bytes) from {@code offset}. */
        void read(long offset, ByteBuffer dst) throws IOException;
    }

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    public static Source of(Volume volume) {
        return volume::read;
    }

    /**
     * Calls {@code nonZero} with each region that holds a non-zero byte, in ascending order, and
     * returns how many there were. Stops early when {@code nonZero} throws.
     */
    public long scan(RegionGeometry geometry, Source source, LongConsumer nonZero) throws IOException {
        return scan(geometry, source, nonZero, false);
    }

    /** The first region that holds a non-zero byte, or -1 when every byte is zero (or a hole). */
    public long firstNonZero(RegionGeometry geometry, Source source) throws IOException {
        long[] first = {-1};
        scan(geometry, source, r -> first[0] = r, true);
        return first[0];
    }

    private long scan(RegionGeometry geometry, Source source, LongConsumer nonZero, boolean stopAtFirst) throws IOException {
        long size = geometry.size();
        long found = 0;
        long lastFound = -1;
        long offset = 0;
        while (offset < size) {
            long region = geometry.regionOf(offset);
            if (region == lastFound) {
                // The rest of a region already known to hold data (regions larger than a chunk) is not read.
                offset = geometry.regionStart(region) + geometry.regionLength(region);
                continue;
            }
            int length = (int) Math.min(CHUNK, size - offset);
            buffer.clear().limit(length);
            source.read(offset, buffer);
            // Each region (or the part of one) inside this chunk: compare its bytes with zeros.
            int pos = 0;
            while (pos < length) {
                long r = geometry.regionOf(offset + pos);
                int end = (int) Math.min(length, geometry.regionStart(r) + geometry.regionLength(r) - offset);
                if (r != lastFound && !zero(pos, end - pos)) {
                    lastFound = r;
                    found++;
                    nonZero.accept(r);
                    if (stopAtFirst) {
                        return found;
                    }
                }
                pos = end;
            }
            offset += length;
        }
        return found;
    }

    private boolean zero(int from, int length) {
        ByteBuffer slice = buffer.slice(from, length);
        return slice.mismatch(zeros.slice(0, length)) == -1;
    }
}
