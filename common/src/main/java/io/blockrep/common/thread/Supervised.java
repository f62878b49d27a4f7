package io.blockrep.common.thread;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the failure of a task run by an executor to an owner instead of losing it: a task given to
 * {@code ScheduledExecutorService.schedule}, {@code scheduleWithFixedDelay} or {@code submit} that throws
 * has its exception kept in a future nobody reads (and a periodic one is never run again), and one given
 * to {@code execute} kills its pool thread with nothing told. {@link #guarded} runs the task and gives what
 * it throws to {@code onFailure} (the owner restarts what failed, or stops the process); a
 * {@link VirtualMachineError} is not the owner's to handle and is {@linkplain #escalate escalated} to the
 * thread's uncaught-exception handler ({@link FatalExit} in the service processes).
 *
 * <p>Thread-safe; the wrappers run on whatever thread runs the task.
 */
public final class Supervised {
    private static final Logger LOG = LoggerFactory.getLogger(Supervised.class);

    private Supervised() {
    }

    /** {@code task}, with what it throws handed to {@code onFailure}; the wrapper itself does not throw. */
    public static Runnable guarded(String component, Runnable task, Consumer<Throwable> onFailure) {
        return () -> {
            try {
                task.run();
            } catch (VirtualMachineError e) {
                escalate(e);
            } catch (RuntimeException | Error e) {
                handOver(component, e, onFailure);
            }
        };
    }

    /** Gives {@code e} to {@code onFailure}; an owner that fails to handle it is itself a failure of the process. */
    public static void handOver(String component, Throwable e, Consumer<Throwable> onFailure) {
        try {
            onFailure.accept(e);
        } catch (RuntimeException | Error second) {
            second.addSuppressed(e);
            LOG.error("{}: handling a failure failed", component, second);
            escalate(second);
        }
    }

    /** Hands {@code e} to the current thread's uncaught-exception handler (the process's backstop) and returns. */
    public static void escalate(Throwable e) {
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, e);
    }

    /** The component a thread belongs to, from its name ({@code volume-io-site-a-3} → {@code volume-io-site-a}). */
    static String component(Thread t) {
        return t.getName().replaceFirst("-\\d+$", "");
    }
}
