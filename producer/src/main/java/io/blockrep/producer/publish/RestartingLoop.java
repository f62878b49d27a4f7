package io.blockrep.producer.publish;

import io.blockrep.common.FatalException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a publisher's owner loop on the publisher's own thread and restarts it when it throws, so that a bug
 * or a failed read does not end Kafka publishing until the process restarts.
 *
 * <p>Fatal, the loop ends: a {@link FatalException} (a configuration that retrying cannot fix; the facility
 * goes on serving and keeps the backlog in its bitmaps, status shows the publisher FAILED) and a
 * {@link VirtualMachineError}, which is then rethrown to the thread's uncaught-exception handler (in the
 * service processes, the backstop that exits non-zero). Anything else is logged at ERROR with the attempt number; the owner drops its
 * clients and in-flight state ({@link Owner#reset}), waits out a bounded exponential backoff (0.5 s doubling
 * to 60 s) and the loop runs again. Failures count as consecutive while each comes within {@link #RESET} of
 * the one before; a loop that then ran longer without failing starts again at attempt 1.
 *
 * <p>Threading: {@link #run} and {@link #recovered} on the owner thread only; {@link #stats} from any thread.
 */
final class RestartingLoop {
    static final Duration MIN = Duration.ofMillis(500);
    static final Duration MAX = Duration.ofSeconds(60);
    static final Duration RESET = MAX.multipliedBy(2);
    private static final Logger LOG = LoggerFactory.getLogger(RestartingLoop.class);

    /** The loop: returns when the publisher stops, throws when it fails; InterruptedException means it is closing. */
    @FunctionalInterface
    interface Body {
        void run() throws InterruptedException;
    }

    /** What the publisher does about a failure of its loop; called on the owner thread. */
    interface Owner {
        /** The loop failed and will restart: drop the Kafka clients and what was in flight; tell whoever listens. */
        void reset(Throwable cause);

        /** The loop failed for good. */
        void stopped(Throwable cause);

        /** Waits {@code millis}, or less if the publisher closes; false when it is closing. */
        boolean await(long millis) throws InterruptedException;
    }

    private final String name;
    private final Clock clock;
    private final Owner owner;
    private long lastFailureMillis;
    private volatile int attempt;
    private volatile long restarts;
    private volatile boolean restarting;
    private volatile Throwable lastCrash;

    RestartingLoop(String name, Clock clock, Owner owner) {
        this.name = name;
        this.clock = clock;
        this.owner = owner;
    }

    /** Runs {@code body} until it returns, is interrupted or fails fatally; restarts it after any other failure. */
    void run(Body body) {
        while (true) {
            try {
                body.run();
                return;
            } catch (InterruptedException e) {
                return;
            } catch (FatalException | VirtualMachineError e) {
                owner.stopped(e);
                if (e instanceof VirtualMachineError vme) {
                    throw vme; // on to the thread's uncaught-exception handler: the service's backstop exits (FatalExit)
                }
                return;
            } catch (RuntimeException | Error e) {
                long delay = failed(e);
                LOG.error("{} failed; restarting it in {} ms (attempt {})", name, delay, attempt, e);
                try {
                    owner.reset(e);
                } catch (RuntimeException re) {
                    LOG.warn("{}: cleaning up after the failure failed too", name, re);
                }
                try {
                    if (!owner.await(delay)) {
                        return;
                    }
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** The restarted loop publishes again: ends the RESTARTING state (the attempt count stays, see the class comment). */
    void recovered() {
        if (restarting) {
            restarting = false;
            LOG.info("{} publishing again after restart attempt {}", name, attempt);
        }
    }

    PublisherStats.Restarts stats() {
        return new PublisherStats.Restarts(restarts, attempt, restarting, Optional.ofNullable(lastCrash));
    }

    /** Counts a failure; returns the delay before the restart, in ms. */
    private long failed(Throwable e) {
        long now = clock.millis();
        int n = attempt > 0 && now - lastFailureMillis <= RESET.toMillis() ? attempt + 1 : 1;
        lastFailureMillis = now;
        lastCrash = e;
        restarting = true;
        attempt = n;
        restarts++;
        return delayOf(n);
    }

    /** The delay before restart attempt {@code n} (1-based), in ms. */
    static long delayOf(int n) {
        return Math.min(MAX.toMillis(), MIN.toMillis() << Math.min(n - 1, 30));
    }
}
