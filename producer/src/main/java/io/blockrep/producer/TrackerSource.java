package io.blockrep.producer;

import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.publish.DirtySource;
import java.util.ArrayList;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/** A volume's dirty tracker seen as the publisher's outbox: every pending era and the open one, durable bits only. */
record TrackerSource(String volume, long volumeSize, int regionSize, DirtyTracker tracker) implements DirtySource {
    @Override
    public List<Long> eras() {
        List<Long> eras = new ArrayList<>(tracker.pendingEras());
        long open = tracker.openEra();
        if (!eras.contains(open)) {
            eras.add(open);
        }
        return eras;
    }

    @Override
    public RoaringBitmap dirtyRegions(long era) {
        return tracker.dirtyRegions(era);
    }
}
