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

    /**
     * As {@link #read(String, List)}, offered {@code into}: a heap buffer with room for the extents'
     * bytes plus {@link #FRAMING_PER_EXTENT} per extent, which the caller reuses once the data is sent.
     * An implementation may lay the data out there instead of allocating; the default ignores it.
     */
    default CompletableFuture<List<ByteBuffer>> read(String volume, List<Extent> extents, ByteBuffer into) {
        return read(volume, extents);
    }

    /** Room per extent that {@link #read(String, List, ByteBuffer)}'s buffer has beyond the data. */
    int FRAMING_PER_EXTENT = 64;
}
