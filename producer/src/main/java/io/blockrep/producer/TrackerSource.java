package io.blockrep.producer;

import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.publish.DirtySource;
import java.util.NavigableMap;
import org.roaringbitmap.RoaringBitmap;

/** A volume's dirty tracker seen as the publisher's outbox: every pending era and the open one, durable bits only. */
record TrackerSource(String volume, long volumeSize, int regionSize, DirtyTracker tracker) implements DirtySource {
    @Override
    public NavigableMap<Long, RoaringBitmap> snapshot() {
        return tracker.dirtySnapshot();
    }
}
