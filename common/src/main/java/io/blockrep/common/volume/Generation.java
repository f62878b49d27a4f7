package io.blockrep.common.volume;

import java.util.Objects;

/**
 * One entry of a volume's generation history: an id made when a node started taking writes its
 * peer would not see, who made it, and when. Id {@link #CREATED} is the generation every volume
 * starts in, so two freshly created (empty) copies of a volume are related.
 */
public record Generation(long generationId, String nodeId, long startEpochMillis) {
    public static final long CREATED = 0;

    public Generation {
        Objects.requireNonNull(nodeId, "nodeId");
    }

    public static Generation created() {
        return new Generation(CREATED, "", 0);
    }

    /** The id as operators see it: 16 hex digits. */
    public String idText() {
        return String.format("%016x", generationId);
    }
}
