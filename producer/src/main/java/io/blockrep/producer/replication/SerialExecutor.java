package io.blockrep.producer.replication;

import io.blockrep.common.thread.Supervised;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in the order they were submitted, on a shared executor: one per volume,
 * so that the link events of a volume (down, restored) apply in the order they happened while the
 * volumes of a facility share a small pool. Thread-safe.
 *
 * <p>Failures: a task that throws does not stop the tasks after it; what it threw is handed to the
 * owner's {@code onFailure} (the facility restarts the volumes' replication, see
 * {@code ComponentSupervisor}), {@link Error}s included. A {@link VirtualMachineError} goes to the pool
 * thread's uncaught-exception handler (the process's backstop) after the tasks still queued were handed
 * to the pool again, so this executor never stays "running" with nobody draining it.
 */
public final class SerialExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    private final Executor pool;
    private final String name;
    private final Consumer<Throwable> onFailure;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;

    /** Failures are logged only. */
    public SerialExecutor(Executor pool, String name) {
        this(pool, name, e -> LOG.error("{}: task failed: {}", name, e.toString(), e));
    }

    public SerialExecutor(Executor pool, String name, Consumer<Throwable> onFailure) {
        this.pool = pool;
        this.name = name;
        this.onFailure = onFailure;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (queue) {
            queue.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        pool.execute(this::drain);
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (VirtualMachineError e) {
                resumeElsewhere();
                throw e;
            } catch (RuntimeException | Error e) {
                Supervised.handOver(name, e, onFailure);
            }
        }
    }

    /** Hands what is still queued to the pool again (a new drain), or marks this executor idle. */
    private void resumeElsewhere() {
        synchronized (queue) {
            if (queue.isEmpty()) {
                running = false;
                return;
            }
        }
        pool.execute(this::drain);
    }
}
