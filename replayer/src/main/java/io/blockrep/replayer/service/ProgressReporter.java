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
 * a volume is kept until the reporter thread sends it, and failures are logged at DEBUG.
 *
 * <p>Thread-safe; one daemon thread, started on the first report.
 */
final class ProgressReporter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    private record Report(FacilityClient primary, CopyProgress progress) {
    }

    private final Map<String, Report> latest = new LinkedHashMap<>();
    private Thread thread;
    private boolean closed;

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

    private static void send(String volume, Report r) {
        CopyProgress p = r.progress();
        try {
            r.primary().replayProgress(volume, p.era(), p.bytesCopied(), p.bytesTotal(), p.regionsSkipped(), (long) p.bytesPerSecond());
        } catch (RuntimeException e) {
            LOG.debug("volume {}: progress report to the facility failed: {}", volume, e.toString());
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        latest.clear();
        notifyAll();
    }
}
