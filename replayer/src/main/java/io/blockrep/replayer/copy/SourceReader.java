package io.blockrep.replayer.copy;

import io.blockrep.replayer.plan.Extent;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The source's side of a resync: the current bytes of a volume on the node whose dirty regions are
 * being copied. {@link VolumeCopier} asks for the next data set's extents while the previous set is
 * still being sent, so an implementation should answer asynchronously (the link reader pipelines
 * every extent of a call in one round trip).
 *
 * <p>Calls may come from one thread at a time; futures may complete on another.
 */
public interface SourceReader {
    /**
     * Reads every extent of {@code extents} from {@code volume}; completes with one buffer per extent,
     * in order, each holding exactly {@link Extent#length()} bytes, or fails as a whole.
     */
    CompletableFuture<List<ByteBuffer>> read(String volume, List<Extent> extents);
}
