package io.blockrep.producer;

import io.blockrep.common.thread.RestartBackoff;
import io.blockrep.common.thread.Supervised;
import io.blockrep.schemas.EventType;
import java.time.Clock;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner of a facility's background failures (issue #12, deliver 2): a task of the volume I/O
 * executor ({@code volume-io-<node>}), of a volume's link events ({@code SerialExecutor}) or of the mode
 * timers that threw, and a publisher loop that restarted. Each failure is logged at ERROR, published as
 * an event {@code OTHER} with {@code kind=COMPONENT_RESTARTED} (for every volume: the facility's
 * components serve them all), and, for the replication components, answered by restarting the
 * volumes' replication after a backoff ({@link RestartBackoff}, 0.5 s doubling to 60 s): the peer link
 * is dropped and made anew, so every volume goes through link-down (LOGGING, its writes in flight
 * marked dirty) and link-restored (a resync), the same path a network failure takes, which the mode
 * machine is built to recover from whatever state it was left in.
 *
 * <p>Why restart and not exit: the failed task belongs to one volume's transition; the bitmaps keep
 * what changed, so a restart loses nothing, while exiting would cut every NBD client of every volume.
 * A {@link VirtualMachineError} is the exception: the process state is not trusted, and it goes to the
 * process's backstop ({@code FatalExit}), which exits non-zero.
 *
 * <p>Thread-safe; {@link #failed} runs on the failing thread and does not block.
 */
final class ComponentSupervisor {
    static final String KIND = "COMPONENT_RESTARTED";
    private static final Logger LOG = LoggerFactory.getLogger(ComponentSupervisor.class);

    /** Where the events go: the facility's observer (nothing while Kafka is off). */
    interface Events {
        void event(String volume, EventType type, String mode, Map<String, String> detail);
    }

    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final Supplier<Collection<String>> volumes;
    private final Supplier<Events> events;
    private final Runnable restartReplication;
    private final RestartBackoff backoff = new RestartBackoff();
    private boolean restartPending;

    /**
     * @param restartReplication drops and remakes the peer link; null for a facility without a peer
     */
    ComponentSupervisor(Clock clock, ScheduledExecutorService scheduler, Supplier<Collection<String>> volumes, Supplier<Events> events,
            Runnable restartReplication) {
        this.clock = clock;
        this.scheduler = scheduler;
        this.volumes = volumes;
        this.events = events;
        this.restartReplication = restartReplication;
    }

    /** A replication component failed: logs, publishes, and restarts the volumes' replication after the backoff. */
    void failed(String component, Throwable e) {
        if (e instanceof VirtualMachineError) {
            Supervised.escalate(e);
            return;
        }
        long delay;
        int attempt;
        boolean schedule;
        synchronized (this) {
            delay = backoff.failed(clock.millis());
            attempt = backoff.attempt();
            schedule = restartReplication != null && !restartPending;
            restartPending |= schedule;
        }
        if (restartReplication == null) {
            LOG.error("{} failed (attempt {}); the failed task is dropped, the volumes go on", component, attempt, e);
        } else {
            LOG.error("{} failed (attempt {}); restarting the volumes' replication in {} ms", component, attempt, delay, e);
        }
        publish(component, e, attempt);
        if (schedule) {
            try {
                scheduler.schedule(Supervised.guarded("replication restart", this::restart, x -> failed("replication restart", x)),
                        delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                LOG.debug("facility closing: no restart of the replication");
            }
        }
    }

    /** A periodic task failed and runs again at its next interval (that is its restart): logs and publishes. */
    void retried(String component, Throwable e) {
        if (e instanceof VirtualMachineError) {
            Supervised.escalate(e);
            return;
        }
        LOG.error("{} failed; it runs again at its next interval", component, e);
        publish(component, e, 0);
    }

    /** A component restarted itself (a publisher loop): logs nothing more (it did), publishes the event. */
    void restarted(String component, Throwable cause, int attempt) {
        publish(component, cause, attempt);
    }

    private void restart() {
        synchronized (this) {
            restartPending = false;
        }
        LOG.info("restarting the volumes' replication after a component failure");
        restartReplication.run();
    }

    private void publish(String component, Throwable cause, int attempt) {
        Events sink = events.get();
        if (sink == null) {
            return;
        }
        Map<String, String> detail = Map.of("kind", KIND, "component", component, "attempt", Integer.toString(attempt),
                "cause", String.valueOf(cause));
        for (String volume : volumes.get()) {
            sink.event(volume, EventType.OTHER, null, detail);
        }
    }
}
