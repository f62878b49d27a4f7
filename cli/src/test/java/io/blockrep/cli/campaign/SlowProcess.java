package io.blockrep.cli.campaign;

import io.blockrep.testkit.ExternalCommand;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The "slow disk" of {@link Fault#SLOW_SECONDARY}: a daemon thread that freezes a process for 150 ms,
 * lets it run for 150 ms, and so on, until the returned action stops it (and leaves the process
 * running). Thread-safe: the action may be called from any thread, once.
 */
final class SlowProcess {
    private static final long BURST_NANOS = 150_000_000L;

    private SlowProcess() {
    }

    static Runnable start(ExternalCommand.Running process) {
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = new Thread(() -> {
            while (!stop.get() && process.isAlive()) {
                process.signal("STOP");
                LockSupport.parkNanos(BURST_NANOS);
                process.signal("CONT");
                LockSupport.parkNanos(BURST_NANOS);
            }
            process.signal("CONT");
        }, "campaign-slow-" + process.pid());
        t.setDaemon(true);
        t.start();
        return () -> {
            stop.set(true);
            try {
                t.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.signal("CONT");
        };
    }
}
