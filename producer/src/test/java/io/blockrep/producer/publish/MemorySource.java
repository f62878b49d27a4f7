package io.blockrep.producer.publish;

import java.util.NavigableMap;
import java.util.TreeMap;
import org.roaringbitmap.RoaringBitmap;

/** A {@link DirtySource} in memory, standing in for the era bitmaps. Thread-safe. */
final class MemorySource implements DirtySource {
    private final String volume;
    private final TreeMap<Long, RoaringBitmap> eras = new TreeMap<>();

    MemorySource(String volume) {
        this.volume = volume;
    }

    /** Runs {@code action} while no reader can take a snapshot: a reconcile reads the bitmaps after it, not during it. */
    synchronized void whileLocked(Runnable action) {
        action.run();
    }

    synchronized void mark(long era, int region) {
        eras.computeIfAbsent(era, e -> new RoaringBitmap()).add(region);
    }

    @Override
    public String volume() {
        return volume;
    }

    @Override
    public long volumeSize() {
        return 1L << 30;
    }

    @Override
    public int regionSize() {
        return 65_536;
    }

    @Override
    public synchronized NavigableMap<Long, RoaringBitmap> snapshot() {
        TreeMap<Long, RoaringBitmap> copy = new TreeMap<>();
        eras.forEach((era, bits) -> copy.put(era, bits.clone()));
        return copy;
    }
}
