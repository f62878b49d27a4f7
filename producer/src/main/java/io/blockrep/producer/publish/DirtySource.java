package io.blockrep.producer.publish;

import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/**
 * What {@link DirtyPublisher} reads of one volume's local dirty record: the outbox. The local bitmaps
 * are authoritative; the publisher makes Kafka hold one record for each of their bits.
 *
 * <p>Implementations must be safe to call from the publisher's thread while writes go on:
 * {@link #dirtyRegions(long)} returns a snapshot the caller may keep and that later writes do not
 * change. Region numbers are unsigned 32-bit values, as RoaringBitmap stores them.
 */
public interface DirtySource {
    String volume();

    long volumeSize();

    int regionSize();

    /** The eras that still have local dirty bits (pending and open), oldest first. */
    List<Long> eras();

    /** A snapshot of the dirty regions of {@code era}; empty for an era this volume no longer has. */
    RoaringBitmap dirtyRegions(long era);
}
