package io.blockrep.common.link;

import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

/**
 * A blocking, request/response client of a facility's link server, for the replayer: it sends data
 * sets to a secondary, asks for region hashes, and reads a source volume's bytes. Unlike the primary's replication link it has no background
 * threads and no heartbeats: every call writes its frames, then reads the replies with a socket
 * read timeout, so a dead or blackholed peer fails the call within {@code timeout}.
 *
 * <p>Data set order on the wire: DATASET_BEGIN, every DATASET_EXTENT, DATASET_COMMIT; the server
 * ACKs BEGIN and each extent as it is journaled and answers COMMIT with DATASET_ACK once the whole
 * set is durably applied. A refusal of any part refuses the whole set; nothing of it is applied.
 *
 * <p>Not thread-safe: one caller at a time. A failed call closes the connection; the client
 * reconnects on the next call.
 */
public final class LinkClient implements Closeable {
    /** One extent of a data set. */
    public record Extent(long offset, ByteBuffer data) {
    }

    private final String nodeId;
    private final HostPort peer;
    private final SharedSecret secret;
    private final List<VolumeInfo> volumes;
    private final Duration timeout;
    private final LinkTls tls;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private long requestIds;
    private long lastUsedNanos;

    /**
     * A connection idle longer than this is replaced before the next call: the server closes idle
     * connections (it expects heartbeats, which this client does not send), and a write on a
     * connection the server already closed would fail the call.
     */
    static final long IDLE_RECONNECT_NANOS = 1_000_000_000L;
    /** Bytes a READ_REPLY frame takes beyond its data: header, status, CRC. */
    public static final int READ_REPLY_OVERHEAD = LinkFrame.HEADER_BYTES + 2 + LinkFrame.TRAILER_BYTES;
    private static final ByteBuffer NO_BUFFER = ByteBuffer.allocate(0);

    /**
     * @param volumes the volumes to attach, as this side describes them (id, size, region size, role PRIMARY)
     */
    public LinkClient(String nodeId, HostPort peer, SharedSecret secret, List<VolumeInfo> volumes, Duration timeout) {
        this(nodeId, peer, secret, volumes, timeout, null);
    }

    /**
     * @param volumes the volumes to attach, as this side describes them (id, size, region size, role PRIMARY)
     * @param tls     mutual TLS to the facility (replayer.link.tls.*), or null for plaintext
     */
    public LinkClient(String nodeId, HostPort peer, SharedSecret secret, List<VolumeInfo> volumes, Duration timeout, LinkTls tls) {
        this.tls = tls;
        this.nodeId = nodeId;
        this.peer = peer;
        this.secret = secret;
        this.volumes = List.copyOf(volumes);
        this.timeout = timeout;
    }

    /** Sends one data set; returns once the secondary applied all of it durably. */
    public void sendDataSet(String volume, long setId, List<Extent> extents) {
        sendDataSet(volume, setId, extents, false);
    }

    /** As {@link #sendDataSet(String, long, List)}; {@code direct}: applied without a journal (see {@link LinkMessage.DataSetBegin}). */
    public void sendDataSet(String volume, long setId, List<Extent> extents, boolean direct) {
        call("data set " + setId + " of " + volume, () -> {
            long total = 0;
            for (Extent e : extents) {
                total += e.data().remaining();
            }
            send(new LinkMessage.DataSetBegin(volume, setId, extents.size(), total, direct));
            for (Extent e : extents) {
                writeExtent(out, ++requestIds, setId, e.offset(), e.data());
            }
            DataSetCrc crc = new DataSetCrc();
            extents.forEach(e -> crc.add(e.offset(), e.data()));
            send(new LinkMessage.DataSetCommit(setId, extents.size(), crc.value()));
            out.flush();
            String refusal = null;
            for (int i = 0; i < extents.size() + 1; i++) {
                LinkMessage reply = read();
                if (reply instanceof LinkMessage.Ack ack) {
                    if (ack.status() != LinkStatus.OK && refusal == null) {
                        refusal = ack.status() + ": " + ack.message();
                    }
                } else if (reply instanceof LinkMessage.DataSetAck done) {
                    return finish(volume, setId, done, refusal);
                } else {
                    throw unexpected(reply);
                }
            }
            LinkMessage last = read();
            if (last instanceof LinkMessage.DataSetAck done) {
                return finish(volume, setId, done, refusal);
            }
            throw unexpected(last);
        });
    }

    private static Void finish(String volume, long setId, LinkMessage.DataSetAck done, String refusal) {
        if (done.setId() != setId) {
            throw new FatalException("secondary acknowledged set " + done.setId() + " while set " + setId + " was open");
        }
        if (done.status() != LinkStatus.OK) {
            throw new FatalException("secondary refused data set " + setId + " of " + volume + ": " + done.status() + " "
                    + done.message() + (refusal == null ? "" : " (" + refusal + ")"));
        }
        return null;
    }

    /** SHA-256 of each {@code blockSize} block of {@code [offset, offset+length)} on the secondary. */
    public List<byte[]> hashes(String volume, long offset, long length, int blockSize) {
        return call("hashes of " + volume, () -> {
            send(new LinkMessage.HashRequest(volume, offset, length, blockSize));
            out.flush();
            LinkMessage reply = read();
            if (reply instanceof LinkMessage.HashReply hashes) {
                return hashes.digests();
            }
            if (reply instanceof LinkMessage.Ack ack) {
                throw new FatalException("peer " + peer + " refused hashes of " + volume + " [" + offset + ", +" + length + "): "
                        + ack.status() + " " + ack.message());
            }
            throw unexpected(reply);
        });
    }

    /** A range to hash: {@code [offset, offset+length)} in blocks of {@code blockSize}. */
    public record HashRange(long offset, long length, int blockSize) {
    }

    /**
     * Hashes of several ranges in one round trip: every HASH_REQUEST is written first, then the
     * replies are read in order (the server answers a connection's requests in order).
     */
    public List<List<byte[]>> hashes(String volume, List<HashRange> ranges) {
        return call("hashes of " + volume, () -> {
            for (HashRange r : ranges) {
                send(new LinkMessage.HashRequest(volume, r.offset(), r.length(), r.blockSize()));
            }
            out.flush();
            List<List<byte[]>> all = new java.util.ArrayList<>(ranges.size());
            for (HashRange r : ranges) {
                LinkMessage reply = read();
                if (reply instanceof LinkMessage.HashReply hashes) {
                    all.add(hashes.digests());
                } else if (reply instanceof LinkMessage.Ack ack) {
                    throw new FatalException("peer " + peer + " refused hashes of " + volume + " [" + r.offset() + ", +" + r.length() + "): "
                            + ack.status() + " " + ack.message());
                } else {
                    throw unexpected(reply);
                }
            }
            return all;
        });
    }

    /** A range to read: {@code [offset, offset+length)}, 1..{@link LinkMessage#MAX_READ} bytes. */
    public record ReadRange(long offset, int length) {
    }

    /** The bytes {@code [offset, offset+length)} of {@code volume} on the peer. */
    public ByteBuffer read(String volume, long offset, int length) {
        return read(volume, List.of(new ReadRange(offset, length))).get(0);
    }

    /**
     * Reads several ranges in one round trip: every READ_REQUEST is written first, then the replies
     * are read in order (the server answers a connection's requests in order), so the peer streams
     * the data back to back. Each buffer holds exactly its range; a refusal of any range fails the
     * whole call with a {@link FatalException} (a range outside the volume, or a volume the peer
     * does not have, will not get better by retrying).
     */
    public List<ByteBuffer> read(String volume, List<ReadRange> ranges) {
        return read(volume, ranges, NO_BUFFER);
    }

    /**
     * As {@link #read(String, List)}, with the replies laid out one after another in {@code into}
     * (a heap buffer the caller reuses once it is done with the data; each reply takes its data plus
     * {@value #READ_REPLY_OVERHEAD} bytes of framing). Replies that do not fit get their own arrays.
     */
    public List<ByteBuffer> read(String volume, List<ReadRange> ranges, ByteBuffer into) {
        return call("read of " + volume, () -> {
            for (ReadRange r : ranges) {
                send(new LinkMessage.ReadRequest(volume, r.offset(), r.length(), true));
            }
            out.flush();
            List<ByteBuffer> all = new java.util.ArrayList<>(ranges.size());
            for (ReadRange r : ranges) {
                LinkMessage reply = read(into);
                if (!(reply instanceof LinkMessage.ReadReply data)) {
                    throw unexpected(reply);
                }
                if (data.status() != LinkStatus.OK) {
                    throw new FatalException("peer " + peer + " refused a read of " + volume + " [" + r.offset() + ", +" + r.length()
                            + "): " + data.status());
                }
                if (data.length() != r.length()) {
                    throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME, "read of " + volume + " [" + r.offset() + ", +"
                            + r.length() + ") answered with " + data.length() + " bytes");
                }
                all.add(data.zeros() > 0 ? zeros(into, data.zeros()) : data.data());
            }
            return all;
        });
    }

    /** {@code length} zero bytes for a ZEROS reply: laid out in {@code into} when it has room (its frame took little), else new. */
    private static ByteBuffer zeros(ByteBuffer into, int length) {
        if (into.hasArray() && into.remaining() >= length) {
            ByteBuffer out = into.slice().limit(length);
            java.util.Arrays.fill(into.array(), into.arrayOffset() + into.position(), into.arrayOffset() + into.position() + length, (byte) 0);
            into.position(into.position() + length);
            return out.asReadOnlyBuffer();
        }
        return ByteBuffer.allocate(length).asReadOnlyBuffer();
    }

    private interface Call<T> {
        T run() throws IOException, LinkProtocolException;
    }

    private <T> T call(String what, Call<T> call) {
        try {
            if (socket != null && System.nanoTime() - lastUsedNanos > IDLE_RECONNECT_NANOS) {
                close();
            }
            connect();
            T result = call.run();
            lastUsedNanos = System.nanoTime();
            return result;
        } catch (SocketTimeoutException e) {
            close();
            throw new RetriableException(what + ": no answer from " + peer + " within " + timeout.toMillis() + " ms", e);
        } catch (IOException e) {
            close();
            throw new RetriableException(what + ": link to " + peer + " failed: " + e.getMessage(), e);
        } catch (LinkProtocolException e) {
            close();
            throw new FatalException(what + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void connect() throws IOException, LinkProtocolException {
        if (socket != null) {
            return;
        }
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(peer.host(), peer.port()), (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            if (tls != null) {
                s = tls.client(s, peer.host(), peer.port());
            }
            InputStream i = new BufferedInputStream(s.getInputStream(), 1 << 16);
            OutputStream o = new BufferedOutputStream(s.getOutputStream(), 1 << 20);
            LinkMessage.Hello hello = LinkHandshake.run(nodeId, secret, volumes, i, o);
            if (s instanceof javax.net.ssl.SSLSocket secured) {
                tls.checkPeerNodeId(secured, hello.nodeId());
            }
            socket = s;
            in = i;
            out = o;
        } catch (IOException | LinkProtocolException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Writes a DATASET_EXTENT frame, byte for byte what {@link LinkMessage.DataSetExtent#toFrame} encodes
     * (set id, offset, data), from the caller's buffer: building the message copies the data three
     * times, which was most of the replayer's sending cost. LinkClientTest holds the two to the same bytes.
     */
    static void writeExtent(OutputStream out, long requestId, long setId, long offset, ByteBuffer data) throws IOException {
        new LinkMessage.DataSetExtent(setId, offset, data); // validates, without copying
        ByteBuffer ids = ByteBuffer.allocate(16).putLong(setId).putLong(offset).flip();
        LinkFrame.write(out, MessageType.DATASET_EXTENT, 0, requestId, ids, data);
    }

    private void send(LinkMessage m) throws IOException {
        m.toFrame(++requestIds).writeTo(out);
    }

    private LinkMessage read() throws IOException, LinkProtocolException {
        return read(NO_BUFFER);
    }

    private LinkMessage read(ByteBuffer into) throws IOException, LinkProtocolException {
        LinkMessage m = LinkMessage.decode(LinkFrame.read(in, into));
        if (m instanceof LinkMessage.Error err) {
            throw new LinkProtocolException(err.status(), peer + " closed the link: " + err.status() + " " + err.message());
        }
        return m;
    }

    private static LinkProtocolException unexpected(LinkMessage m) {
        return new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, "unexpected " + m.type() + " from the peer");
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        in = null;
        out = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing; nothing to do
            }
        }
    }
}
