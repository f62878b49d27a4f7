package io.blockrep.producer.nbd;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLSocket;

/**
 * Buffered framing over one blocking client socket, in plain text or, after
 * {@link #upgrade(SSLSocket)}, TLS.
 *
 * <p>Threading: the input side ({@link #require}, {@link #readFully}, {@link #skip}) belongs to the
 * connection's reader thread alone. The output side ({@link #room}, {@link #writePayload},
 * {@link #flush}) has one owner at a time: the reader thread during negotiation, then whichever
 * of the connection's two threads holds the {@link ReplyWriter}'s output lock. {@link #close()} and {@link #writeStalledNanos}
 * may be called from any thread (the server's watchdog); closing the raw socket unblocks both
 * owners at once, and never blocks itself, in TLS too (the TLS layer is never asked to close).
 *
 * <p>Reads never flush: the output owner flushes when it has nothing more to send; before a read
 * that may block, the reader runs the {@link #beforeBlockingRead} hook (which wakes the writer). Payloads are
 * written in chunks of at most the buffer size, and the start of the chunk being written is
 * recorded, so a watchdog can tell a client that stopped reading (no progress for the reply
 * timeout) from one that reads a large reply slowly.
 */
final class NbdSocket implements Closeable {
    static final int BUFFER_SIZE = 256 * 1024;

    private final SocketChannel raw;
    private ReadableByteChannel input;
    private WritableByteChannel output;
    private final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER_SIZE).flip();
    private final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private volatile long writeStartedNanos;
    private volatile boolean tls;
    private BeforeRead beforeBlockingRead = () -> { };

    /** What the reader does before a read that may block. */
    interface BeforeRead {
        void run() throws IOException;
    }

    NbdSocket(SocketChannel raw) {
        this.raw = raw;
        this.input = raw;
        this.output = raw;
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
        beforeBlockingRead.run();
        in.compact();
        try {
            while (in.position() < n) {
                if (input.read(in) < 0) {
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
            dst.put(in.slice(in.position(), n));
            in.position(in.position() + n);
        }
        if (dst.hasRemaining()) {
            beforeBlockingRead.run();
        }
        while (dst.hasRemaining()) {
            if (input.read(dst) < 0) {
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

    /** Runs {@code hook} (on the reader thread) whenever a read may block: the replies it completed go out first. */
    void beforeBlockingRead(BeforeRead hook) {
        this.beforeBlockingRead = hook;
    }

    /** True when the client sent bytes that have not been consumed yet. */
    boolean hasBufferedInput() {
        return in.hasRemaining();
    }

    /** The output buffer, with at least {@code n} bytes (at most the buffer size) free; the caller puts a frame into it. */
    ByteBuffer room(int n) throws IOException {
        if (out.remaining() < n) {
            flush();
        }
        return out;
    }

    /** Appends {@code payload}: copied when it fits in the buffer, else written straight through in chunks. */
    void writePayload(ByteBuffer payload) throws IOException {
        if (payload.remaining() <= out.remaining()) {
            out.put(payload);
            return;
        }
        flush();
        int limit = payload.limit();
        try {
            while (payload.hasRemaining()) {
                payload.limit(Math.min(limit, payload.position() + BUFFER_SIZE));
                writeAll(payload);
                payload.limit(limit);
            }
        } finally {
            payload.limit(limit);
        }
    }

    /** Writes a small frame; it goes out with the next {@link #flush()}. */
    void send(ByteBuffer frame) throws IOException {
        room(frame.remaining());
        writePayload(frame);
    }

    /** Pushes every buffered output byte to the socket. */
    void flush() throws IOException {
        if (out.position() == 0) {
            return;
        }
        out.flip();
        try {
            writeAll(out);
        } finally {
            out.compact();
        }
    }

    private void writeAll(ByteBuffer b) throws IOException {
        writeStartedNanos = System.nanoTime() | 1;
        try {
            while (b.hasRemaining()) {
                output.write(b);
            }
        } finally {
            writeStartedNanos = 0;
        }
    }

    /** How long the write in progress has been blocked at {@code now}; 0 when none is. */
    long writeStalledNanos(long now) {
        long started = writeStartedNanos;
        return started == 0 ? 0 : now - started;
    }

    /** The raw socket, for the TLS layer. */
    SocketChannel raw() {
        return raw;
    }

    boolean tls() {
        return tls;
    }

    /**
     * Switches both directions to {@code socket}, a TLS socket layered over the raw one whose
     * handshake is done. Called by the reader thread during negotiation, with no input buffered.
     */
    void upgrade(SSLSocket socket) throws IOException {
        if (in.hasRemaining() || out.position() != 0) {
            throw new IllegalStateException("unconsumed plain-text bytes at STARTTLS");
        }
        input = Channels.newChannel(socket.getInputStream());
        output = Channels.newChannel(socket.getOutputStream());
        tls = true;
    }

    /** Closes the raw socket; never blocks. */
    @Override
    public void close() throws IOException {
        raw.close();
    }
}
