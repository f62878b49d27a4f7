package io.blockrep.producer.publish;

import java.util.NavigableMap;
import org.roaringbitmap.RoaringBitmap;

/**
 * What {@link DirtyPublisher} reads of one volume's local dirty record: the outbox. The local bitmaps
 * are authoritative; the publisher makes Kafka hold one record for each of their bits.
 *
 * <p>Implementations must be safe to call from the publisher's thread while writes, era changes and
 * replay reports go on. Region numbers are unsigned 32-bit values, as RoaringBitmap stores them.
 */
public interface DirtySource {
    String volume();

    long volumeSize();

    int regionSize();

    /**
     * The dirty regions of every era not yet dropped — each pending era, with bits or without, and the open
     * one — oldest first, as one atomic snapshot the caller may keep and that later writes do not change. Atomic
     * because eras are dropped while the publisher runs: it never reads an era on its own, which may be gone
     * by the time it is read. Era numbers only grow, so an era below the newest one that is absent from a
     * snapshot was replayed and dropped: the publisher has nothing more to send for it.
     */
    NavigableMap<Long, RoaringBitmap> snapshot();
}
