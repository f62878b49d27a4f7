package io.blockrep.producer.control;

import java.util.List;

/**
 * Every region a facility has dirty for one volume, as runs {@code [first, last]} of region
 * numbers, with the totals; {@code generation} is the volume's current generation there.
 */
public record DirtyRegions(String volume, String node, String role, String generation, int regionSize, long regions, long bytes,
                           List<long[]> runs) {
}
