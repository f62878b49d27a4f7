package io.blockrep.producer.dirty;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.RegionGeometry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Byte ranges of a volume that are never marked dirty or hot (scratch or swap areas whose content
 * need not reach the replica). Written in configuration as {@code START-END[,START-END...]} with
 * sizes such as {@code 0-1G,10G-12G}; START is inclusive, END exclusive. Immutable and thread-safe.
 *
 * <p>A region only partly excluded is still marked when a write touches its non-excluded bytes;
 * the whole region is then copied, excluded bytes included, which is harmless.
 */
public final class ExcludedRanges {
    /** A byte range {@code [start, end)}. */
    public record Range(long start, long end) {
        public Range {
            if (start < 0 || end <= start) {
                throw new IllegalArgumentException("bad byte range " + start + "-" + end);
            }
        }
    }

    public static final ExcludedRanges NONE = new ExcludedRanges(List.of());

    private final List<Range> ranges;

    private ExcludedRanges(List<Range> sortedDisjoint) {
        this.ranges = List.copyOf(sortedDisjoint);
    }

    /**
     * Parses {@code 0-1G,10G-12G}; blank text means nothing is excluded. Reports every problem at
     * once in an {@link InvalidInputException} (config exit code).
     */
    public static ExcludedRanges parse(String text) {
        if (text == null || text.isBlank()) {
            return NONE;
        }
        List<String> problems = new ArrayList<>();
        List<Range> parsed = new ArrayList<>();
        for (String item : text.split(",", -1)) {
            String entry = item.trim();
            int dash = entry.indexOf('-');
            if (entry.isEmpty()) {
                problems.add("empty entry in excluded ranges '" + text + "'");
                continue;
            }
            if (dash < 0) {
                problems.add("'" + entry + "' is not a range: write START-END, e.g. 0-1G");
                continue;
            }
            Long start = size(entry.substring(0, dash), entry, problems);
            Long end = size(entry.substring(dash + 1), entry, problems);
            if (start == null || end == null) {
                continue;
            }
            if (end <= start) {
                problems.add("'" + entry + "' is empty or reversed: END must be greater than START");
                continue;
            }
            parsed.add(new Range(start, end));
        }
        parsed.sort(Comparator.comparingLong(Range::start));
        for (int i = 1; i < parsed.size(); i++) {
            Range a = parsed.get(i - 1);
            Range b = parsed.get(i);
            if (b.start() < a.end()) {
                problems.add("ranges " + format(a) + " and " + format(b) + " overlap");
            }
        }
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
        return new ExcludedRanges(parsed);
    }

    private static Long size(String text, String entry, List<String> problems) {
        try {
            return Sizes.parse(text.trim());
        } catch (InvalidInputException e) {
            problems.add("in '" + entry + "': " + e.getMessage());
            return null;
        }
    }

    public List<Range> ranges() {
        return ranges;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    /** Every range that reaches past the end of a volume of {@code geometry}; empty when all fit. */
    public List<String> problems(RegionGeometry geometry) {
        List<String> problems = new ArrayList<>();
        for (Range r : ranges) {
            if (r.end() > geometry.size()) {
                problems.add("excluded range " + format(r) + " ends past the volume size " + Sizes.format(geometry.size()));
            }
        }
        return problems;
    }

    /**
     * The regions touched by the non-excluded bytes of a write of {@code length} bytes at
     * {@code offset}, as ascending, disjoint, non-adjacent ranges. Empty for an empty write or one
     * wholly inside an excluded range.
     */
    public List<RegionRange> regionsToMark(long offset, long length, RegionGeometry geometry) {
        if (!geometry.contains(offset, length)) {
            throw new IndexOutOfBoundsException("write of " + length + " bytes at " + offset + " is outside the volume of "
                    + geometry.size() + " bytes");
        }
        List<RegionRange> out = new ArrayList<>(2);
        long end = offset + length;
        long cursor = offset;
        for (Range r : ranges) {
            if (r.start() >= end) {
                break;
            }
            if (r.end() <= cursor) {
                continue;
            }
            if (r.start() > cursor) {
                add(out, cursor, r.start(), geometry);
            }
            cursor = Math.max(cursor, r.end());
        }
        if (cursor < end) {
            add(out, cursor, end, geometry);
        }
        return out;
    }

    private static void add(List<RegionRange> out, long from, long to, RegionGeometry geometry) {
        long first = geometry.regionOf(from);
        long last = geometry.regionOf(to - 1);
        if (!out.isEmpty()) {
            RegionRange prev = out.get(out.size() - 1);
            if (first <= prev.last() + 1) {
                out.set(out.size() - 1, new RegionRange(prev.first(), Math.max(prev.last(), last)));
                return;
            }
        }
        out.add(new RegionRange(first, last));
    }

    private static String format(Range r) {
        return Sizes.format(r.start()) + "-" + Sizes.format(r.end());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Range r : ranges) {
            sb.append(sb.length() == 0 ? "" : ",").append(format(r));
        }
        return sb.toString();
    }
}
