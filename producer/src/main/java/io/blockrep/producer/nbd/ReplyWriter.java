package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.SIMPLE_REPLY_SIZE;
import static io.blockrep.producer.nbd.NbdWire.putSimpleReply;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reply writer of one connection: the only thread that writes to the client during the
 * transmission phase.
 *
 * <p>Whoever completes a request (the reader thread, an I/O pool, the link receiver, the bitmap
 * flusher) calls {@link #enqueue}, which never blocks: the queue holds {@code capacity} replies,
 * and the connection never has more requests in flight than that (each reply holds a request
 * permit until this writer has written it and called its {@code release}). So a client that stops
 * reading blocks this thread alone; the server's watchdog sees the stalled write and closes the
 * socket after the reply timeout, which ends this thread.
 *
 * <p>Replies are written into the socket's buffer and flushed when the queue runs dry, so a deep
 * pipeline goes out in few socket writes. The reader thread queues the replies it completes
 * itself with {@code wake=false} and calls {@link #flushBeforeBlocking()} before it blocks (on the
 * socket or on permits): it then writes them itself, under the same output lock, unless this
 * writer is busy. Only the connection's own two threads ever write to its socket. After {@link #finish()} the writer writes what was queued
 * before, flushes and ends; after a failure or {@link #close()} it releases every queued reply
 * without writing it.
 */
final class ReplyWriter implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ReplyWriter.class);

    /** One reply: header fields, the READ data if any, and what to release once it is written. */
    record Reply(long cookie, int error, ByteBuffer data, Runnable release) {
    }

    private static final Reply FINISH = new Reply(0, 0, null, () -> { });

    private final NbdSocket socket;
    private final String peer;
    private final BlockingQueue<Reply> queue;
    private final Runnable onFailure;
    /** Held by whichever thread writes replies: this writer, or the reader in {@link #flushBeforeBlocking}. */
    private final ReentrantLock output = new ReentrantLock();
    private volatile Thread thread;
    private volatile boolean waiting;
    private volatile boolean closed;

    /** {@code onFailure} runs (once, on this thread) when a write fails; it closes the connection. */
    ReplyWriter(NbdSocket socket, String peer, int capacity, Runnable onFailure) {
        this.socket = socket;
        this.peer = peer;
        this.queue = new ArrayBlockingQueue<>(capacity + 1);
        this.onFailure = onFailure;
    }

    /**
     * Queues a reply; never blocks. Returns false when the writer is closed or the queue is full
     * (a caller that broke the permit rule): the reply was released unwritten.
     */
    boolean enqueue(Reply reply, boolean wake) {
        if (closed || !queue.offer(reply)) {
            reply.release().run();
            return false;
        }
        if (closed) {
            drop();
        }
        if (wake) {
            wake();
        }
        return true;
    }

    /** Wakes the writer if it waits for work; never blocks. */
    void wake() {
        Thread t = thread;
        if (waiting && t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Asks the writer to end after the replies queued so far (CMD_DISC). */
    void finish() {
        if (!queue.offer(FINISH)) {
            close();
        }
        wake();
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (!closed) {
                if (drain()) {
                    return;
                }
                waiting = true;
                if (queue.isEmpty() && !closed) {
                    LockSupport.park(this);
                }
                waiting = false;
            }
        } catch (IOException e) {
            if (!closed) {
                log.debug("{}: cannot send reply: {}", peer, e.toString());
                onFailure.run();
            }
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            // A bug writing replies ends this connection (the client reconnects), not the process.
            log.error("{}: reply writer failed; closing the connection", peer, e);
            onFailure.run();
        } finally {
            close();
        }
    }

    /**
     * Called by the reader thread before it blocks: writes the queued replies itself when the writer
     * is not busy (saving a thread hand-off; a client that does not read then blocks its own reader,
     * which is its back-pressure), else wakes the writer. Never called after {@link #finish()}.
     */
    void flushBeforeBlocking() throws IOException {
        if (queue.isEmpty()) {
            return;
        }
        if (output.tryLock()) {
            try {
                writeQueued();
            } finally {
                output.unlock();
            }
        } else {
            wake();
        }
    }

    /** Writes every queued reply and flushes, under the output lock; true when FINISH was reached. */
    private boolean drain() throws IOException {
        output.lock();
        try {
            return writeQueued();
        } finally {
            output.unlock();
        }
    }

    private boolean writeQueued() throws IOException {
        Reply r;
        while ((r = queue.poll()) != null) {
            if (r == FINISH) {
                if (!closed) {
                    socket.flush();
                }
                return true;
            }
            write(r);
        }
        socket.flush();
        return false;
    }

    private void write(Reply r) throws IOException {
        try {
            putSimpleReply(socket.room(SIMPLE_REPLY_SIZE), r.error(), r.cookie());
            if (r.data() != null) {
                socket.writePayload(r.data());
            }
        } finally {
            r.release().run();
        }
    }

    /** Stops writing and releases every queued reply; any thread. */
    void close() {
        closed = true;
        drop();
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void drop() {
        Reply r;
        while ((r = queue.poll()) != null) {
            r.release().run();
        }
    }
}
