package io.blockrep.producer.link;

/** Monotonic time in nanoseconds; injected so time-based decisions can be tested with a fake clock. */
@FunctionalInterface
public interface Ticker {
    long nanos();

    static Ticker system() {
        return System::nanoTime;
    }
}
