package io.blockrep.replayer.copy;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** The secondary's side of a resync: it applies data sets atomically and answers region hashes. */
public interface ReplicaTarget {
    /** One extent of a data set: bytes to write at an offset. */
    record ExtentData(long offset, ByteBuffer data) {
    }

    /** Called before a copy pass with the volume's geometry (a link attaches the volume with it). */
    default void attach(String volume, io.blockrep.common.volume.RegionGeometry geometry) {
    }

    /** Completes once the secondary has applied the whole set durably; fails if any of it was refused or the link failed. */
    CompletionStage<Void> sendDataSet(String volume, long setId, List<ExtentData> extents);

    /** SHA-256 of each {@code blockSize} block of {@code [offset, offset+length)} on the secondary. */
    CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize);

    /** The hashes of several ranges ({@code long[]{offset, length}} each); a link sends them in one round trip. */
    default CompletionStage<List<List<byte[]>>> hashes(String volume, List<long[]> ranges, int blockSize) {
        List<java.util.concurrent.CompletableFuture<List<byte[]>>> parts = new java.util.ArrayList<>();
        for (long[] r : ranges) {
            parts.add(hashes(volume, r[0], r[1], blockSize).toCompletableFuture());
        }
        return java.util.concurrent.CompletableFuture.allOf(parts.toArray(java.util.concurrent.CompletableFuture[]::new))
                .thenApply(v -> parts.stream().map(java.util.concurrent.CompletableFuture::join).toList());
    }
}
