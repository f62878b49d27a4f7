package io.blockrep.producer.nbd;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Buffered framing over one blocking byte channel (a socket in production, a pipe in tests).
 *
 * <p>Threading: the input side ({@link #require}, {@link #readFully}, {@link #skip}) belongs to
 * the connection's reader thread alone. The output side may be used from any thread; every
 * output call holds one lock, so a frame written by one thread is never interleaved with another
 * thread's frame.
 *
 * <p>Invariant: the reader never blocks on the channel while replies sit unflushed in the output
 * buffer. Whenever a read needs bytes that are not already buffered, it flushes the output first.
 * So replies written by the reader thread can be left unflushed ({@code flush=false}) and go out
 * in one batch when the client's pipeline of requests runs dry, while a client that waits for a
 * reply before sending more always gets it.
 */
final class NbdSocket implements Closeable {
    private static final int BUFFER_SIZE = 256 * 1024;

    private final ByteChannel channel;
    private final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER_SIZE).flip();
    private final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private final ReentrantLock writeLock = new ReentrantLock();

    NbdSocket(ByteChannel channel) {
        this.channel = channel;
    }

    /**
     * Makes at least {@code n} bytes (at most the buffer size) readable from the returned buffer,
     * which the caller consumes with relative gets. Throws {@link EOFException} if the peer closes
     * first.
     */
    ByteBuffer require(int n) throws IOException {
        if (in.remaining() >= n) {
            return in;
        }
        in.compact();
        try {
            while (in.position() < n) {
                flush();
                if (channel.read(in) < 0) {
                    throw new EOFException("peer closed the connection " + in.position() + " bytes into a " + n + "-byte frame");
                }
            }
        } finally {
            in.flip();
        }
        return in;
    }

    /** Fills {@code dst} completely: first from buffered input, then straight from the channel. */
    void readFully(ByteBuffer dst) throws IOException {
        if (in.hasRemaining()) {
            int n = Math.min(in.remaining(), dst.remaining());
            ByteBuffer slice = in.slice(in.position(), n);
            dst.put(slice);
            in.position(in.position() + n);
        }
        if (dst.hasRemaining()) {
            flush();
        }
        while (dst.hasRemaining()) {
            if (channel.read(dst) < 0) {
                throw new EOFException("peer closed the connection with " + dst.remaining() + " payload bytes unsent");
            }
        }
    }

    /** Reads and discards {@code n} bytes. */
    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            ByteBuffer b = require(1);
            int step = (int) Math.min(left, b.remaining());
            b.position(b.position() + step);
            left -= step;
        }
    }

    /** Acquires the output side; pair with {@link #unlockOutput()} in a finally block. */
    ByteBuffer lockOutput(int headerRoom) throws IOException {
        writeLock.lock();
        try {
            if (out.remaining() < headerRoom) {
                drainLocked();
            }
        } catch (IOException | RuntimeException e) {
            writeLock.unlock();
            throw e;
        }
        return out;
    }

    void unlockOutput() {
        writeLock.unlock();
    }

    /**
     * Appends {@code payload} to a frame begun under {@link #lockOutput}: copied when it fits in
     * the buffer (small reads batch into one socket write), else written straight through.
     * Caller holds the output lock.
     */
    void writePayloadLocked(ByteBuffer payload) throws IOException {
        if (payload.remaining() <= out.remaining()) {
            out.put(payload);
            return;
        }
        drainLocked();
        while (payload.hasRemaining()) {
            channel.write(payload);
        }
    }

    /** Writes a small frame (a handshake reply) without flushing. */
    void send(ByteBuffer frame) throws IOException {
        lockOutput(0);
        try {
            writePayloadLocked(frame);
        } finally {
            unlockOutput();
        }
    }

    /** Pushes every buffered output byte to the channel. */
    void flush() throws IOException {
        writeLock.lock();
        try {
            drainLocked();
        } finally {
            writeLock.unlock();
        }
    }

    void drainLocked() throws IOException {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        try {
            while (out.hasRemaining()) {
                channel.write(out);
            }
        } finally {
            out.compact();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
