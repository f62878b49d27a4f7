package io.blockrep.producer.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.DirtyCause;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/** What the publisher makes of a snapshot in which an era it knew is gone (replayed and dropped). */
class VolumeOutboxTest {
    private static NavigableMap<Long, RoaringBitmap> snapshot(long[] eras, int... regions) {
        TreeMap<Long, RoaringBitmap> s = new TreeMap<>();
        for (long e : eras) {
            s.put(e, RoaringBitmap.bitmapOf(regions));
        }
        return s;
    }

    @Test
    void anEraDroppedBeforeItsRecordsWentOutIsForgottenNotLeftAsBacklog() {
        VolumeOutbox v = new VolumeOutbox(new MemorySource("vol"), 0);
        v.apply(snapshot(new long[] {1, 2}, 4, 5));
        EraOutbox one = v.era(1);
        one.hint(6, 100, DirtyCause.LOGGED_WRITE);
        one.closedRegionCount = 3;
        one.inFlight.add(4);
        assertThat(v.backlog()).isEqualTo(5);

        assertThat(v.apply(snapshot(new long[] {2}, 4, 5))).containsExactly(2L);

        assertThat(v.gone(1)).isTrue();
        assertThat(one.unsent().isEmpty()).isTrue();
        assertThat(one.markerDue()).as("a replayed era needs no marker").isFalse();
        assertThat(one.idle()).as("until its record in flight is answered").isFalse();
        one.acked(4);
        assertThat(one.idle()).isTrue();
        assertThat(v.backlog()).isEqualTo(2);
    }

    @Test
    void erasNewerThanTheSnapshotAreNotGone() {
        VolumeOutbox v = new VolumeOutbox(new MemorySource("vol"), 0);
        v.apply(snapshot(new long[] {3, 4}, 1));
        assertThat(v.gone(4)).isFalse();
        assertThat(v.gone(5)).as("opened after the snapshot: its hints count").isFalse();
        assertThat(v.gone(2)).as("below the snapshot and not in it: dropped").isTrue();
        assertThat(v.movedTo(1).gone(2)).as("kept when the partition count changes").isTrue();
    }
}
