package io.blockrep.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Blocks a long-running verb until Ctrl-C (SIGINT) or SIGTERM, then lets the verb close its
 * components on its own thread while the shutdown hook waits, so the process exits only after
 * everything was stopped cleanly.
 */
final class UntilInterrupted implements AutoCloseable {
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread hook;

    UntilInterrupted() {
        hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "blockrep-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Waits for a stop signal. */
    void await() throws InterruptedException {
        stopRequested.await();
    }

    /**
     * Waits for a stop signal or for {@code failed} to complete, whichever comes first; returns the
     * failure, or null after a stop signal. A component that died must end the process (non-zero), not
     * leave it looking alive.
     */
    Throwable awaitOrFailure(java.util.concurrent.CompletionStage<Throwable> failed) throws InterruptedException {
        java.util.concurrent.CompletableFuture<Throwable> f = failed.toCompletableFuture();
        while (!stopRequested.await(200, TimeUnit.MILLISECONDS)) {
            if (f.isDone()) {
                return f.join();
            }
        }
        return null;
    }

    /** Signals that the verb has stopped its components; call from a finally block. */
    @Override
    public void close() {
        stopped.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The hook is running and now returns.
        }
    }
}
