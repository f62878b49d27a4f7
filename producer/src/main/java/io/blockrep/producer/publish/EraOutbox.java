package io.blockrep.producer.publish;

import io.blockrep.schemas.DirtyCause;
import java.util.HashMap;
import java.util.Map;
import org.roaringbitmap.RoaringBitmap;

/**
 * What the publisher knows of one (volume, era): the regions known dirty (last bitmap snapshot and
 * hints since), the ones whose record is in flight, and the ones Kafka holds. Invariant:
 * {@code published} and {@code inFlight} are disjoint. Confined to the publisher's thread.
 */
final class EraOutbox {
    /** First-touch details of a hinted region, used for its record's value. */
    record Touch(long firstWriteMillis, DirtyCause cause) {
    }

    final long era;
    RoaringBitmap dirty = new RoaringBitmap();
    final RoaringBitmap hinted = new RoaringBitmap();
    final RoaringBitmap inFlight = new RoaringBitmap();
    final RoaringBitmap published = new RoaringBitmap();
    final Map<Integer, Touch> touches = new HashMap<>();
    /** Region count of the era-closed marker to send, or -1 while the era is open. */
    long closedRegionCount = -1;
    long closedMillis;
    boolean markerInFlight;
    boolean markerPublished;

    EraOutbox(long era) {
        this.era = era;
    }

    void hint(int region, long firstWriteMillis, DirtyCause cause) {
        hinted.add(region);
        if (published.contains(region)) {
            return; // a repeated hint: its record is out, and a touch kept for it would never be removed
        }
        touches.merge(region, new Touch(firstWriteMillis, cause),
                (a, b) -> a.firstWriteMillis() <= b.firstWriteMillis() ? a : b);
    }

    boolean needsSending(int region) {
        return !published.contains(region) && !inFlight.contains(region);
    }

    /** Regions known dirty whose record is neither published nor in flight. */
    RoaringBitmap unsent() {
        RoaringBitmap r = RoaringBitmap.or(dirty, hinted);
        r.andNot(published);
        r.andNot(inFlight);
        return r;
    }

    /** Regions known dirty that Kafka has not acknowledged. */
    long backlog() {
        return RoaringBitmap.andNotCardinality(RoaringBitmap.or(dirty, hinted), published);
    }

    void acked(int region) {
        inFlight.remove(region);
        published.add(region);
        touches.remove(region);
    }

    /** The era-closed marker may go once every region of the era is acknowledged: it must follow them all. */
    boolean markerDue() {
        return closedRegionCount >= 0 && !markerPublished && !markerInFlight && inFlight.isEmpty() && backlog() == 0;
    }

    /**
     * The source dropped this era: it was replayed, so nothing of it is left to publish, neither its regions
     * nor its marker. Records in flight still complete.
     */
    void forget() {
        dirty = new RoaringBitmap();
        hinted.clear();
        touches.clear();
        closedRegionCount = -1;
    }

    /** Nothing left to do for an era the source no longer has. */
    boolean idle() {
        return inFlight.isEmpty() && !markerInFlight && (closedRegionCount < 0 || markerPublished);
    }
}
