package io.blockrep.common.thread;

import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service processes' backstop ({@code blockrep producer}, {@code blockrep replayer}): a thread that
 * ends on an exception nobody handled stops the process with a non-zero exit code, so a supervisor
 * (systemd, Kubernetes) restarts it, instead of a live process whose component is silently gone.
 *
 * <p>Every long-lived thread of blockrep handles its own expected failures (a dropped connection, an
 * unreachable broker) and restarts or ends its component by itself; what reaches this handler is a bug
 * or a {@link VirtualMachineError}, after which the process state is not trusted. The handler logs
 * {@code fatal: thread <name> failed: <cause>} at ERROR with the stack trace and calls
 * {@link System#exit} with {@link #EXIT_CODE}, so the shutdown hooks close the volumes; if they have not
 * finished within {@link #HALT_AFTER_SECONDS} s (a hook waiting on a lock the failed thread held), the
 * JVM is halted.
 *
 * <p>Threading: the handler runs on the failing thread; a second failure while exiting only logs.
 */
public final class FatalExit {
    /** EX_SOFTWARE of sysexits.h: an internal software error. */
    public static final int EXIT_CODE = 70;
    static final long HALT_AFTER_SECONDS = 30;
    private static final Logger LOG = LoggerFactory.getLogger(FatalExit.class);

    private FatalExit() {
    }

    /** Makes {@link #handler} with {@link System#exit} the JVM's default uncaught-exception handler. */
    public static void install(String process) {
        Thread.setDefaultUncaughtExceptionHandler(handler(process, code -> {
            Thread halt = new Thread(() -> {
                try {
                    TimeUnit.SECONDS.sleep(HALT_AFTER_SECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                Runtime.getRuntime().halt(code);
            }, "fatal-exit-halt");
            halt.setDaemon(true);
            halt.start();
            System.exit(code);
        }));
    }

    /** The handler: logs the failure as fatal and calls {@code exit} with {@link #EXIT_CODE} once. */
    public static Thread.UncaughtExceptionHandler handler(String process, IntConsumer exit) {
        Object once = new Object();
        boolean[] exiting = {false};
        return (thread, error) -> {
            LOG.error("fatal: {} failed: thread {}: {}; {} exits with code {}", Supervised.component(thread), thread.getName(),
                    error, process, EXIT_CODE, error);
            synchronized (once) {
                if (exiting[0]) {
                    return;
                }
                exiting[0] = true;
            }
            exit.accept(EXIT_CODE);
        };
    }
}
