package io.blockrep.common.volume;

/** Per-volume role. A PRIMARY takes application writes; a SECONDARY applies what its primary sends and exports read-only. */
public enum Role {
    PRIMARY,
    SECONDARY
}
