package io.blockrep.producer.publish;

import java.util.TreeMap;

/** The publisher's per-volume state. Confined to the publisher's thread. */
final class VolumeOutbox {
    final DirtySource source;
    final int partition;
    final TreeMap<Long, EraOutbox> eras = new TreeMap<>();
    /** False until {@code published} was rebuilt from Kafka since the last connect; nothing is sent before. */
    boolean rebuilt;
    boolean reconcileDue = true;

    VolumeOutbox(DirtySource source, int partition) {
        this.source = source;
        this.partition = partition;
    }

    EraOutbox era(long era) {
        return eras.computeIfAbsent(era, EraOutbox::new);
    }

    long backlog() {
        long n = 0;
        for (EraOutbox e : eras.values()) {
            n += e.backlog();
        }
        return n;
    }
}
