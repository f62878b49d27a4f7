package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a client the server cannot take it, as far as the protocol allows: greeting, then every
 * option answered with NBD_REP_ERR_POLICY and a message ("too many connections ..."); ABORT is
 * acknowledged, EXPORT_NAME (which has no error reply) closes. Runs on a short-lived thread of
 * its own, bounded by {@link #MAX_OPTIONS} options and {@link #DEADLINE_MILLIS} of wall time
 * (reads time out), and writes only a few hundred bytes, so a hostile client can hold it only
 * briefly; the server runs at most a few of these at once and simply closes beyond that.
 */
final class RefusedConnection implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(RefusedConnection.class);
    static final int MAX_OPTIONS = 4;
    static final int DEADLINE_MILLIS = 3000;

    private final SocketChannel channel;
    private final String peer;
    private final String reason;

    RefusedConnection(SocketChannel channel, String peer, String reason) {
        this.channel = channel;
        this.peer = peer;
        this.reason = reason;
    }

    @Override
    public void run() {
        long deadline = System.nanoTime() + DEADLINE_MILLIS * 1_000_000L;
        try (channel) {
            channel.socket().setSoTimeout(DEADLINE_MILLIS);
            DataInputStream in = new DataInputStream(channel.socket().getInputStream());
            ByteBuffer greeting = ByteBuffer.allocate(GREETING_SIZE);
            putGreeting(greeting);
            write(greeting.flip());
            in.readInt(); // client flags: whatever they are, the answer is the same
            byte[] message = reason.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < MAX_OPTIONS && System.nanoTime() < deadline; i++) {
                if (in.readLong() != IHAVEOPT) {
                    return;
                }
                int option = in.readInt();
                long length = Integer.toUnsignedLong(in.readInt());
                if (option == OPT_EXPORT_NAME || length > MAX_OPTION_LENGTH) {
                    return;
                }
                in.skipNBytes(length);
                boolean abort = option == OPT_ABORT;
                ByteBuffer reply = ByteBuffer.allocate(OPTION_REPLY_HEADER_SIZE + (abort ? 0 : message.length));
                putOptionReplyHeader(reply, option, abort ? REP_ACK : REP_ERR_POLICY, abort ? 0 : message.length);
                write(abort ? reply.flip() : reply.put(message).flip());
                if (abort) {
                    return;
                }
            }
        } catch (IOException e) {
            log.debug("{}: refused connection ended: {}", peer, e.toString());
        } catch (RuntimeException e) {
            log.warn("{}: refusing the connection failed", peer, e);
        }
    }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
