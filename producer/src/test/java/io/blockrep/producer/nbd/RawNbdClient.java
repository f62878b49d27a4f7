package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/** A byte-level NBD client for tests: sends exactly what it is told, including garbage. */
final class RawNbdClient implements AutoCloseable {
    private final SocketChannel ch;

    RawNbdClient(int port) throws IOException {
        ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
    }

    /** Connects with a receive buffer of {@code receiveBuffer} bytes (set before connecting, so the window stays small). */
    RawNbdClient(int port, int receiveBuffer) throws IOException {
        ch = SocketChannel.open();
        ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, receiveBuffer);
        ch.connect(new InetSocketAddress("127.0.0.1", port));
    }

    /** Reads the greeting, sends client flags; returns the handshake flags. */
    int greet(int clientFlags) throws IOException {
        ByteBuffer g = readN(GREETING_SIZE);
        if (g.getLong() != NBDMAGIC || g.getLong() != IHAVEOPT) {
            throw new IOException("bad greeting");
        }
        int flags = Short.toUnsignedInt(g.getShort());
        send(ByteBuffer.allocate(4).putInt(clientFlags).flip());
        return flags;
    }

    void option(int option, ByteBuffer data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(OPTION_HEADER_SIZE + data.remaining());
        b.putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).put(data);
        send(b.flip());
    }

    static ByteBuffer infoData(String name, int... types) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * types.length).putInt(n.length).put(n).putShort((short) types.length);
        for (int t : types) {
            b.putShort((short) t);
        }
        return b.flip();
    }

    record OptionReply(int option, int type, ByteBuffer data) {
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = readN(OPTION_REPLY_HEADER_SIZE);
        if (h.getLong() != OPTION_REPLY_MAGIC) {
            throw new IOException("bad option reply magic");
        }
        int option = h.getInt();
        int type = h.getInt();
        return new OptionReply(option, type, readN(h.getInt()));
    }

    /** NBD_OPT_GO to {@code name}, asserting the INFO/ACK sequence; returns the export size. */
    long go(String name) throws IOException {
        option(OPT_GO, infoData(name));
        OptionReply info = optionReply();
        if (info.type() != REP_INFO) {
            throw new IOException("GO " + name + " answered " + Integer.toHexString(info.type()));
        }
        long size = info.data().position(2).getLong();
        while (optionReply().type() != REP_ACK) {
            // skip further infos
        }
        return size;
    }

    void request(int type, int flags, long cookie, long offset, long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(REQUEST_SIZE);
        putRequest(b, new Request(flags, type, cookie, offset, length));
        send(b.flip());
    }

    record Reply(int error, long cookie) {
    }

    Reply reply() throws IOException {
        ByteBuffer b = readN(SIMPLE_REPLY_SIZE);
        if (b.getInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic");
        }
        return new Reply(b.getInt(), b.getLong());
    }

    void send(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    void send(byte[] bytes) throws IOException {
        send(ByteBuffer.wrap(bytes));
    }

    ByteBuffer readN(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("server closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    /** True when the server has closed the connection (reads EOF), blocking until it does. */
    boolean closedByServer() throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            return ch.read(one) < 0;
        } catch (IOException e) {
            return true;
        }
    }

    /** Reads and discards whatever the server sent until it closes; true when it did close (EOF or reset). */
    boolean closedByServerAfterDraining() {
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        try {
            while (ch.read(sink.clear()) >= 0) {
                // discard
            }
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
