package io.blockrep.common.link;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * One frame of the replication link: the owner of the wire layout. All integers big-endian.
 *
 * <pre>
 * offset  size  field
 *      0     4  magic           0x42524C4B ("BRLK")
 *      4     1  version         {@link #VERSION}
 *      5     1  type            {@link MessageType} code
 *      6     2  flags           bit 0 = FUA (WRITE only); bit 1 = DIRECT (DATASET_BEGIN only);
 *                               bit 2 = ZEROS (READ_REQUEST, READ_REPLY only); other bits must be 0
 *      8     8  request id      chosen by the requester; ACK, PONG and ERROR echo it
 *     16     4  payload length  0..{@link #MAX_PAYLOAD}, checked before any allocation
 *     20     n  payload         message-specific, see {@link LinkMessage}
 *   20+n     4  CRC32C          over bytes [0, 20+n)
 * </pre>
 *
 * <p>Immutable; {@link #payload()} returns a read-only view (the frame keeps the caller's buffer, not a
 * copy: a caller must not change a payload it handed over). Decoding never throws anything but
 * {@link LinkProtocolException} for bad input ({@link EOFException} only for a stream that ends
 * cleanly between frames).
 */
public record LinkFrame(MessageType type, int flags, long requestId, ByteBuffer payload) {
    public static final int MAGIC = 0x42524C4B;
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 20;
    public static final int TRAILER_BYTES = 4;
    /** Largest WRITE data, 32 MiB. */
    public static final int MAX_DATA = 32 << 20;
    /** Largest payload: {@link #MAX_DATA} plus room for a write's volume id and offset. */
    public static final int MAX_PAYLOAD = MAX_DATA + 4096;
    /**
     * Largest payload either side reads before its peer authenticated: room for the biggest
     * AUTH_CHALLENGE, AUTH_RESPONSE or ERROR (a status and one string of {@link LinkMessage#MAX_STRING}),
     * so an unauthenticated peer can never make this side allocate or wait for more.
     */
    public static final int PRE_AUTH_MAX_PAYLOAD = LinkMessage.MAX_STRING + 64;
    public static final int FLAG_FUA = 0x0001;
    /** On DATASET_BEGIN: apply the set's extents to the volume as they arrive, flushed at COMMIT, without a journal. */
    public static final int FLAG_DIRECT = 0x0002;
    /**
     * On READ_REQUEST: a range of zeros may be answered as such. On READ_REPLY: the range holds only
     * zeros; the payload carries its length instead of its bytes.
     */
    public static final int FLAG_ZEROS = 0x0004;
    static final int KNOWN_FLAGS = FLAG_FUA | FLAG_DIRECT | FLAG_ZEROS;

    public LinkFrame {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        if ((flags & ~KNOWN_FLAGS) != 0 || flags > 0xFFFF) {
            throw new IllegalArgumentException("unknown flags 0x" + Integer.toHexString(flags));
        }
        if (payload.remaining() > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload of " + payload.remaining() + " bytes exceeds " + MAX_PAYLOAD);
        }
        payload = payload.slice();
    }

    public boolean fua() {
        return (flags & FLAG_FUA) != 0;
    }

    @Override
    public ByteBuffer payload() {
        return payload.asReadOnlyBuffer();
    }

    public int encodedLength() {
        return HEADER_BYTES + payload.remaining() + TRAILER_BYTES;
    }

    /** The frame as it goes on the wire. */
    public byte[] encode() {
        byte[] out = new byte[encodedLength()];
        ByteBuffer b = ByteBuffer.wrap(out);
        putHeader(b).put(payload.duplicate());
        CRC32C crc = new CRC32C();
        crc.update(out, 0, out.length - TRAILER_BYTES);
        b.putInt((int) crc.getValue());
        return out;
    }

    /**
     * Writes the frame as {@link #encode} lays it out, without assembling it in a new array: the header,
     * the payload straight from its buffer, the CRC. For the bulk senders (data set extents), where a
     * copy of every payload is measurable.
     */
    public void writeTo(OutputStream out) throws IOException {
        write(out, type, flags, requestId, payload);
    }

    /**
     * Writes one frame whose payload is the concatenation of {@code parts} (each read from its position
     * to its limit, left untouched), byte for byte what {@link #encode} of that frame gives, without
     * copying the parts into one buffer first.
     */
    public static void write(OutputStream out, MessageType type, int flags, long requestId, ByteBuffer... parts)
            throws IOException {
        long length = 0;
        for (ByteBuffer p : parts) {
            length += p.remaining();
        }
        if (length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload of " + length + " bytes exceeds " + MAX_PAYLOAD);
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException("unknown flags 0x" + Integer.toHexString(flags));
        }
        byte[] header = new byte[HEADER_BYTES];
        ByteBuffer.wrap(header).putInt(MAGIC).put((byte) VERSION).put((byte) type.code()).putShort((short) flags)
                .putLong(requestId).putInt((int) length);
        CRC32C crc = new CRC32C();
        crc.update(header, 0, HEADER_BYTES);
        out.write(header);
        byte[] chunk = null;
        for (ByteBuffer part : parts) {
            ByteBuffer p = part.duplicate();
            crc.update(p.duplicate());
            if (p.hasArray()) {
                out.write(p.array(), p.arrayOffset() + p.position(), p.remaining());
                continue;
            }
            if (chunk == null) {
                chunk = new byte[(int) Math.min(length, 64 * 1024)];
            }
            while (p.hasRemaining()) {
                int n = Math.min(chunk.length, p.remaining());
                p.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
        int c = (int) crc.getValue();
        out.write(new byte[] {(byte) (c >>> 24), (byte) (c >>> 16), (byte) (c >>> 8), (byte) c});
    }

    private ByteBuffer putHeader(ByteBuffer b) {
        return b.putInt(MAGIC).put((byte) VERSION).put((byte) type.code()).putShort((short) flags)
                .putLong(requestId).putInt(payload.remaining());
    }

    /** Decodes exactly one frame occupying all of {@code bytes}. */
    public static LinkFrame decode(byte[] bytes) throws LinkProtocolException {
        if (bytes.length < HEADER_BYTES) {
            throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME,
                    "truncated frame: " + bytes.length + " bytes, a header alone is " + HEADER_BYTES);
        }
        Header h = Header.parse(Arrays.copyOf(bytes, HEADER_BYTES));
        int expected = HEADER_BYTES + h.length + TRAILER_BYTES;
        if (bytes.length != expected) {
            throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME, bytes.length < expected
                    ? "truncated frame: " + bytes.length + " bytes, header declares " + expected
                    : "trailing bytes after frame: " + bytes.length + " bytes, header declares " + expected);
        }
        return h.finish(bytes, 0);
    }

    /**
     * Reads one frame. The header is checked (magic, version, type, flags, length) before the
     * payload buffer is allocated, and the CRC before the frame is returned, so a caller never sees
     * unverified bytes.
     *
     * @throws EOFException when the stream ends before the first byte of a frame
     * @throws LinkProtocolException when the frame is bad, including a stream ending inside it
     */
    public static LinkFrame read(InputStream in) throws IOException, LinkProtocolException {
        return read(in, NO_BUFFER);
    }

    /**
     * Reads one frame as {@link #read(InputStream)} does, refusing from its header alone a frame whose
     * payload exceeds {@code maxPayload}: before authentication the link reads with
     * {@link #PRE_AUTH_MAX_PAYLOAD}, so nothing bigger is ever allocated or waited for.
     *
     * @throws LinkProtocolException of status {@link LinkStatus#NOT_AUTHENTICATED} for a payload over the limit
     */
    public static LinkFrame read(InputStream in, int maxPayload) throws IOException, LinkProtocolException {
        return read(in, NO_BUFFER, maxPayload);
    }

    private static final ByteBuffer NO_BUFFER = ByteBuffer.allocate(0);

    /**
     * Reads one frame as {@link #read(InputStream)} does, but into {@code into}'s backing array at its
     * position when the whole frame fits there (header, payload, CRC), and advances the position past
     * it; the frame's payload is then a view of {@code into}, valid until the caller reuses that space.
     * A frame that does not fit gets its own array and leaves {@code into} untouched. For the bulk
     * readers: a connection that handles each frame before reading the next reuses one buffer, and the
     * replayer lays a data set's extents out in one slab, instead of allocating an array per frame.
     */
    public static LinkFrame read(InputStream in, ByteBuffer into) throws IOException, LinkProtocolException {
        return read(in, into, MAX_PAYLOAD);
    }

    private static LinkFrame read(InputStream in, ByteBuffer into, int maxPayload) throws IOException, LinkProtocolException {
        if (!into.hasArray() || into.isReadOnly()) {
            throw new IllegalArgumentException("the frame buffer must be a writable heap buffer");
        }
        byte[] header = new byte[HEADER_BYTES];
        int first = in.read();
        if (first < 0) {
            throw new EOFException("peer closed the connection");
        }
        header[0] = (byte) first;
        readFully(in, header, 1, HEADER_BYTES - 1);
        Header h = Header.parse(header);
        if (h.length > maxPayload) {
            throw new LinkProtocolException(LinkStatus.NOT_AUTHENTICATED, "a " + h.type + " frame declaring " + h.length
                    + " payload bytes before authentication; at most " + maxPayload + " are accepted before it");
        }
        int frameBytes = HEADER_BYTES + h.length + TRAILER_BYTES;
        if (frameBytes > into.remaining()) {
            byte[] all = new byte[frameBytes];
            System.arraycopy(header, 0, all, 0, HEADER_BYTES);
            readFully(in, all, HEADER_BYTES, h.length + TRAILER_BYTES);
            return h.finish(all, 0);
        }
        byte[] array = into.array();
        int at = into.arrayOffset() + into.position();
        System.arraycopy(header, 0, array, at, HEADER_BYTES);
        readFully(in, array, at + HEADER_BYTES, h.length + TRAILER_BYTES);
        LinkFrame frame = h.finish(array, at);
        into.position(into.position() + frameBytes);
        return frame;
    }

    private static void readFully(InputStream in, byte[] buf, int off, int len) throws IOException, LinkProtocolException {
        int done = 0;
        while (done < len) {
            int n = in.read(buf, off + done, len - done);
            if (n < 0) {
                throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME,
                        "truncated frame: stream ended " + (len - done) + " bytes short");
            }
            done += n;
        }
    }

    private record Header(MessageType type, int flags, long requestId, int length) {
        static Header parse(byte[] header) throws LinkProtocolException {
            ByteBuffer b = ByteBuffer.wrap(header);
            int magic = b.getInt();
            if (magic != MAGIC) {
                throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME,
                        String.format("bad magic 0x%08X, expected 0x%08X", magic, MAGIC));
            }
            int version = b.get() & 0xFF;
            if (version != VERSION) {
                throw new LinkProtocolException(LinkStatus.UNSUPPORTED_VERSION,
                        "frame version " + version + " is not supported (this side speaks " + VERSION + ")");
            }
            int code = b.get() & 0xFF;
            MessageType type = MessageType.fromCode(code);
            if (type == null || type.reserved()) {
                throw new LinkProtocolException(LinkStatus.UNKNOWN_MESSAGE_TYPE, String.format(
                        "%s message type 0x%02X", type == null ? "unknown" : "reserved, not yet supported,", code));
            }
            int flags = b.getShort() & 0xFFFF;
            if ((flags & ~KNOWN_FLAGS) != 0) {
                throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME, String.format("unknown flags 0x%04X", flags));
            }
            long requestId = b.getLong();
            long length = b.getInt() & 0xFFFFFFFFL;
            if (length > MAX_PAYLOAD) {
                throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME,
                        "declared payload length " + length + " exceeds the maximum " + MAX_PAYLOAD);
            }
            return new Header(type, flags, requestId, (int) length);
        }

        /** The frame whose bytes (header, payload, CRC) start at {@code all[at]}, once its CRC checks. */
        LinkFrame finish(byte[] all, int at) throws LinkProtocolException {
            int crcAt = at + HEADER_BYTES + length;
            CRC32C crc = new CRC32C();
            crc.update(all, at, crcAt - at);
            int expected = (int) crc.getValue();
            int actual = ByteBuffer.wrap(all, crcAt, TRAILER_BYTES).getInt();
            if (actual != expected) {
                throw new LinkProtocolException(LinkStatus.MALFORMED_FRAME,
                        String.format("CRC32C mismatch: frame carries 0x%08X, computed 0x%08X", actual, expected));
            }
            return new LinkFrame(type, flags, requestId, ByteBuffer.wrap(all, at + HEADER_BYTES, length));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LinkFrame f && f.type == type && f.flags == flags && f.requestId == requestId
                && f.payload.equals(payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, flags, requestId, payload);
    }

    @Override
    public String toString() {
        return "LinkFrame[" + type + ", flags=" + flags + ", id=" + requestId + ", " + payload.remaining() + " bytes]";
    }
}
