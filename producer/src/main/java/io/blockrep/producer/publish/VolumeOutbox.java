package io.blockrep.producer.publish;

import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.roaringbitmap.RoaringBitmap;

/** The publisher's per-volume state. Confined to the publisher's thread. */
final class VolumeOutbox {
    final DirtySource source;
    final int partition;
    final TreeMap<Long, EraOutbox> eras = new TreeMap<>();
    /** False until {@code published} was rebuilt from Kafka since the last connect; nothing is sent before. */
    boolean rebuilt;
    boolean reconcileDue = true;
    /** The newest era and the eras of the last snapshot: an era below the newest one not among them is gone. */
    private long newestEra;
    private Set<Long> live = Set.of();

    VolumeOutbox(DirtySource source, int partition) {
        this.source = source;
        this.partition = partition;
    }

    /** This volume's state, for its partition under a new partition count. */
    VolumeOutbox movedTo(int newPartition) {
        VolumeOutbox moved = new VolumeOutbox(source, newPartition);
        moved.eras.putAll(eras);
        moved.newestEra = newestEra;
        moved.live = live;
        return moved;
    }

    /**
     * The publisher's loop failed and restarts with new Kafka clients: nothing counts as in flight any more
     * (a late acknowledgement of the old clients still counts, a late failure is ignored), and the published
     * set is rebuilt from Kafka before anything is sent.
     */
    void restarted() {
        rebuilt = false;
        reconcileDue = true;
        for (EraOutbox e : eras.values()) {
            e.inFlight.clear();
            e.markerInFlight = false;
        }
    }

    EraOutbox era(long era) {
        return eras.computeIfAbsent(era, EraOutbox::new);
    }

    /**
     * Takes a snapshot of the source's bitmaps as the eras' dirty sets and forgets what it shows replayed:
     * the eras it no longer has. Returns the eras it has.
     */
    Set<Long> apply(NavigableMap<Long, RoaringBitmap> snapshot) {
        snapshot.forEach((e, bits) -> era(e).dirty = bits);
        if (!snapshot.isEmpty()) {
            newestEra = Math.max(newestEra, snapshot.lastKey());
        }
        live = Set.copyOf(snapshot.keySet());
        for (EraOutbox e : eras.values()) {
            if (gone(e.era)) {
                e.forget();
            }
        }
        return live;
    }

    /** True once a snapshot showed {@code era} dropped (replayed): nothing of it is sent any more. */
    boolean gone(long era) {
        return era < newestEra && !live.contains(era);
    }

    long backlog() {
        long n = 0;
        for (EraOutbox e : eras.values()) {
            n += e.backlog();
        }
        return n;
    }
}
