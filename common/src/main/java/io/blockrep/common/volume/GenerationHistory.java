package io.blockrep.common.volume;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A volume's generation history, the scheme DRBD uses with its data-generation UUIDs: the current
 * generation first, then earlier ones, newest first, at most {@link #MAX_ENTRIES}.
 *
 * <p>A new current generation is made ({@link #diverge}) when a side starts taking writes its peer
 * will not see: the first write it logs while the peer holds its current generation
 * ({@code shared}). {@code bitmapGeneration} is the generation that was current when that happened,
 * the base the dirty bitmaps are relative to. When a resync ends, the target adopts the source's
 * history ({@link #adoptedFrom}) and both are shared again.
 *
 * <p>Immutable.
 */
public record GenerationHistory(List<Generation> entries, long bitmapGeneration, boolean shared) {
    public static final int MAX_ENTRIES = 8;
    private static final SecureRandom RANDOM = new SecureRandom();

    public GenerationHistory {
        entries = List.copyOf(entries);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a generation history has at least its current generation");
        }
        if (entries.size() > MAX_ENTRIES) {
            entries = entries.subList(0, MAX_ENTRIES);
        }
    }

    /** Where every new volume starts: generation {@link Generation#CREATED}, shared with its peer's fresh copy. */
    public static GenerationHistory created() {
        return new GenerationHistory(List.of(Generation.created()), Generation.CREATED, true);
    }

    /**
     * The history of a copy created over data of unknown origin: one new generation made by
     * {@code node} and nothing before it, so it shares no generation with any other copy
     * ({@link SyncDecision#UNRELATED}) until an operator joins them (a full copy).
     */
    public static GenerationHistory unrelated(String node, long nowMillis) {
        long id;
        do {
            id = RANDOM.nextLong() & Long.MAX_VALUE;
        } while (id == Generation.CREATED);
        return new GenerationHistory(List.of(new Generation(id, node, nowMillis)), id, false);
    }

    public Generation current() {
        return entries.get(0);
    }

    public long currentId() {
        return current().generationId();
    }

    public boolean contains(long generationId) {
        return entries.stream().anyMatch(g -> g.generationId() == generationId);
    }

    /** A new current generation made by {@code node}; the old current becomes the bitmap generation. */
    public GenerationHistory diverge(String node, long nowMillis) {
        long id;
        do {
            id = RANDOM.nextLong() & Long.MAX_VALUE;
        } while (id == Generation.CREATED || contains(id));
        List<Generation> next = new ArrayList<>(entries.size() + 1);
        next.add(new Generation(id, node, nowMillis));
        next.addAll(entries);
        return new GenerationHistory(next, currentId(), false);
    }

    /** This side's current generation is now known to the peer. */
    public GenerationHistory markShared() {
        return shared ? this : new GenerationHistory(entries, bitmapGeneration, true);
    }

    /** The history a resync target takes from its source once it holds the source's data: shared. */
    public static GenerationHistory adoptedFrom(List<Generation> sourceEntries) {
        return new GenerationHistory(sourceEntries, sourceEntries.get(0).generationId(), true);
    }

    /**
     * The history of a split-brain loser that gives up its own generations: back to {@code common}
     * (which must be in this history). It is shared: the winner holds it, so a write this side logs
     * later makes a new generation again.
     */
    public GenerationHistory rewindTo(long common) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).generationId() == common) {
                return new GenerationHistory(entries.subList(i, entries.size()), common, true);
            }
        }
        throw new IllegalArgumentException("generation " + String.format("%016x", common) + " is not in this history");
    }

    /** The newest generation of this history that {@code other} also has, or -1 when they share none. */
    public long newestCommonWith(GenerationHistory other) {
        Objects.requireNonNull(other, "other");
        for (Generation g : entries) {
            if (other.contains(g.generationId())) {
                return g.generationId();
            }
        }
        return -1;
    }
}
