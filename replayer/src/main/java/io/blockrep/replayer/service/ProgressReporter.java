package io.blockrep.replayer.service;

import io.blockrep.replayer.copy.CopyProgress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells primaries how a copy is going ({@code POST .../progress}), off the copier's thread: a report
 * is a status figure for operators, and waiting for its HTTP round trip would delay the copy, and so
 * the {@code replayed} call that ends a cutover's write hold. Best effort: only the latest report of
 * a volume is kept until the reporter thread sends it, and failures are logged at DEBUG (an
 * {@link Error} at ERROR; the thread goes on with the next report). A {@link VirtualMachineError} ends the
 * thread and goes to the process's backstop ({@code FatalExit}), which exits.
 *
 * <p>Thread-safe; one daemon thread, started on the first report.
 */
final class ProgressReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    private record Report(FacilityClient primary, CopyProgress progress) {
    }

    /** Sends one report: the seam a test uses to make a send fail. */
    @FunctionalInterface
    interface Sender {
        void send(String volume, FacilityClient primary, CopyProgress progress);
    }

    private final Sender sender;
    private final Map<String, Report> latest = new LinkedHashMap<>();
    private Thread thread;
    private boolean closed;

    ProgressReporter() {
        this((volume, primary, p) -> primary.replayProgress(volume, p.era(), p.bytesCopied(), p.bytesTotal(), p.regionsSkipped(),
                (long) p.bytesPerSecond()));
    }

    ProgressReporter(Sender sender) {
        this.sender = sender;
    }

    /** Queues {@code progress} of {@code volume} for {@code primary}, replacing a report not sent yet. */
    synchronized void report(String volume, FacilityClient primary, CopyProgress progress) {
        if (closed) {
            return;
        }
        latest.put(volume, new Report(primary, progress));
        if (thread == null) {
            thread = new Thread(this::run, "replay-progress");
            thread.setDaemon(true);
            thread.start();
        }
        notifyAll();
    }

    private void run() {
        while (true) {
            Map.Entry<String, Report> next;
            synchronized (this) {
                while (latest.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                var it = latest.entrySet().iterator();
                next = it.next();
                it.remove();
            }
            send(next.getKey(), next.getValue());
        }
    }

    private void send(String volume, Report r) {
        try {
            sender.send(volume, r.primary(), r.progress());
        } catch (RuntimeException e) {
            LOG.debug("volume {}: progress report to the facility failed: {}", volume, e.toString());
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Error e) {
            // A bug, not the facility being away: said louder, and the next report is sent (a status figure is not worth a process).
            LOG.error("volume {}: sending a progress report failed", volume, e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        latest.clear();
        notifyAll();
    }
}
