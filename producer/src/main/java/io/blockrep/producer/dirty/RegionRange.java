package io.blockrep.producer.dirty;

/** Regions {@code first..last}, both inclusive. */
public record RegionRange(long first, long last) {
    public RegionRange {
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("bad region range " + first + ".." + last);
        }
    }

    public long count() {
        return last - first + 1;
    }
}
