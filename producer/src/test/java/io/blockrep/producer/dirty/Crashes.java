package io.blockrep.producer.dirty;

/** Lets crash tests outside this package stop a tracker as a killed process would. */
public final class Crashes {
    private Crashes() {
    }

    /** Stops {@code tracker} without flushing or emptying anything; see {@link DirtyTracker#abandon()}. */
    public static void abandon(DirtyTracker tracker) {
        tracker.abandon();
    }
}
