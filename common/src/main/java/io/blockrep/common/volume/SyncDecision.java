package io.blockrep.common.volume;

/**
 * What a comparison of two sides' generation histories decides at reconnect (see
 * {@link #decide}). Both sides compute it from the histories exchanged in HELLO and reach mirror
 * images of the same answer.
 */
public enum SyncDecision {
    /** Same current generation: nothing to copy, or the usual resync of the primary's logged regions. */
    SAME,
    /** The peer's current generation is in this side's history: this side is newer and is the sync source. */
    LOCAL_NEWER,
    /** This side's current generation is in the peer's history: the peer is newer and is the sync source. */
    PEER_NEWER,
    /** Each side has generations the other lacks: both took writes since their last common generation. */
    SPLIT_BRAIN,
    /** No common generation at all: the copies are unrelated; only an explicit full copy may join them. */
    UNRELATED;

    public static SyncDecision decide(GenerationHistory local, GenerationHistory peer) {
        if (local.currentId() == peer.currentId()) {
            return SAME;
        }
        if (local.contains(peer.currentId())) {
            return LOCAL_NEWER;
        }
        if (peer.contains(local.currentId())) {
            return PEER_NEWER;
        }
        return local.newestCommonWith(peer) >= 0 ? SPLIT_BRAIN : UNRELATED;
    }

    /** The decision as the other side sees it. */
    public SyncDecision mirrored() {
        return switch (this) {
            case LOCAL_NEWER -> PEER_NEWER;
            case PEER_NEWER -> LOCAL_NEWER;
            default -> this;
        };
    }
}
