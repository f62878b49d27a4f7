package io.blockrep.replayer.plan;

/** A run of adjacent dirty regions, copied as one read and one write: bytes {@code [offset, offset+length)}. */
public record Extent(long firstRegion, int regionCount, long offset, long length) {
}
