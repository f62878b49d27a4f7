package io.blockrep.replayer.copy;

import java.util.concurrent.CompletableFuture;
import org.roaringbitmap.RoaringBitmap;

/** Records in Kafka that regions were replayed: tombstones for {@code volume/node/era/region}. */
public interface ReplayedRegions {
    CompletableFuture<Void> tombstone(String volume, String node, long era, RoaringBitmap regions);

    /** Tombstones the era-closed marker of {@code era}; only after every region of the era was tombstoned. */
    default CompletableFuture<Void> tombstoneMarker(String volume, String node, long era) {
        return CompletableFuture.completedFuture(null);
    }
}
