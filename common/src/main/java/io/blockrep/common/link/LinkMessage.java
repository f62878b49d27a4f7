package io.blockrep.common.link;

import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The typed messages of the replication link and their payload layouts (inside a {@link LinkFrame}).
 * Strings are a u16 byte length and UTF-8; lists a u16 count; integers big-endian.
 *
 * <pre>
 * AUTH_CHALLENGE  str nodeId, u16 n, n bytes nonce
 * AUTH_RESPONSE   u16 n, n bytes HMAC-SHA256 (see {@link LinkAuth})
 * HELLO           str nodeId, u16 protocolVersion, u16 count, count x VolumeInfo
 *   VolumeInfo    str id, i64 size, i32 regionSize, u8 role (0 PRIMARY, 1 SECONDARY), u16 count, count x Generation
 *   Generation    i64 generationId, str nodeId, i64 startEpochMillis
 * ATTACHED        u16 count, count x (str volume, u16 status, str message)
 * WRITE           str volume, i64 offset, data (the rest of the payload); frame flag FUA
 * ACK             u16 status, str message      (frame request id = the acknowledged request)
 * FLUSH           str volume
 * PING, PONG      empty                        (PONG echoes the PING's request id)
 * ERROR           u16 status, str message
 * BYE             str reason
 * DATASET_BEGIN   str volume, i64 setId, i32 extentCount, i64 totalBytes
 * DATASET_EXTENT  i64 setId, i64 offset, data (the rest of the payload, at most {@link LinkFrame#MAX_DATA})
 * DATASET_COMMIT  i64 setId, i32 extentCount, i32 crc32c   (see {@link DataSetCrc})
 * DATASET_ACK     i64 setId, u16 status, str message       (frame request id = the COMMIT's)
 * HASH_REQUEST    str volume, i64 offset, i64 length, i32 blockSize
 * HASH_REPLY      i32 count, count x 32 bytes SHA-256      (frame request id = the HASH_REQUEST's)
 * GENERATION      str volume, u8 inSync (0/1), u16 count, count x Generation   (answered with ACK)
 * READ_REQUEST    str volume, i64 offset, i32 length       (1..{@link #MAX_READ} bytes)
 * READ_REPLY      u16 status, data (the rest of the payload; exactly the requested length when OK, empty otherwise)
 *                                                          (frame request id = the READ_REQUEST's)
 * </pre>
 *
 * <p>Generations: HELLO carries each side's history for every volume it has (current first); the
 * secondary refuses to attach a volume whose histories show split brain, unrelated copies, or
 * newer data on the secondary's side. GENERATION tells the secondary where a resync of its copy
 * stands: {@code inSync=false} when one begins (its data becomes inconsistent), {@code inSync=true}
 * with the primary's history when the copy matches the primary's (the secondary adopts it).
 *
 * <p>Data sets: BEGIN and each EXTENT are answered with an ACK by request id once the extent is in
 * the secondary's journal (or with a negative ACK when the set is refused); COMMIT is answered with
 * DATASET_ACK only after the whole set was applied durably, or refused. A HASH_REQUEST is answered
 * with HASH_REPLY, or a negative ACK (out of range). See {@link BlockHashes} for what is hashed.
 * A READ_REQUEST is answered with a READ_REPLY: OK and all the bytes, or an error status and no
 * bytes (never a partial read). HASH_REQUEST and READ_REQUEST are served for any volume the
 * facility has, in either role, to an authenticated peer, without attaching it (the replayer reads
 * a source this way; verify hashes both sides).
 *
 * Every record is immutable; {@link Write#data()} and {@link DataSetExtent#data()} are read-only views.
 */
public sealed interface LinkMessage {
    int MAX_STRING = 4096;
    /** Most blocks one HASH_REQUEST may cover: the reply (32 bytes each) then fits one frame. */
    int MAX_HASH_BLOCKS = 65_536;
    /** Most bytes one HASH_REQUEST may cover, so the secondary answers within an ack timeout. */
    long MAX_HASH_BYTES = 256L << 20;
    int MIN_HASH_BLOCK = 512;
    int MAX_HASH_BLOCK = 16 << 20;
    int DIGEST_BYTES = 32;
    /** Most bytes one READ_REQUEST may ask for: the reply's data then fits one frame. */
    int MAX_READ = LinkFrame.MAX_DATA;

    MessageType type();

    default int flags() {
        return 0;
    }

    void writePayload(Out out);

    default LinkFrame toFrame(long requestId) {
        Out out = new Out();
        writePayload(out);
        return new LinkFrame(type(), flags(), requestId, out.toBuffer());
    }

    /**
     * Writes the message's frame to {@code out}, byte for byte {@code toFrame(requestId).encode()}.
     * Messages that carry bulk data override it to write the data from its buffer, without the copies
     * that assembling a frame takes.
     */
    default void writeFrame(OutputStream out, long requestId) throws IOException {
        out.write(toFrame(requestId).encode());
    }

    /** Decodes a frame's payload into its message; trailing or missing bytes are protocol errors. */
    static LinkMessage decode(LinkFrame frame) throws LinkProtocolException {
        In in = new In(frame.payload(), frame.type());
        try {
            LinkMessage m = switch (frame.type()) {
                case AUTH_CHALLENGE -> new AuthChallenge(in.string(), in.bytes());
                case AUTH_RESPONSE -> new AuthResponse(in.bytes());
                case HELLO -> Hello.read(in);
                case ATTACHED -> Attached.read(in);
                case WRITE -> new Write(in.volumeId(), in.i64(), frame.fua(), in.rest());
                case ACK -> new Ack(in.status(), in.string());
                case FLUSH -> new Flush(in.volumeId());
                case PING -> new Ping();
                case PONG -> new Pong();
                case ERROR -> new Error(in.status(), in.string());
                case BYE -> new Bye(in.string());
                case DATASET_BEGIN -> new DataSetBegin(in.volumeId(), in.i64(), in.i32(), in.i64(),
                        (frame.flags() & LinkFrame.FLAG_DIRECT) != 0);
                case DATASET_EXTENT -> new DataSetExtent(in.i64(), in.i64(), in.rest());
                case DATASET_COMMIT -> new DataSetCommit(in.i64(), in.i32(), in.i32());
                case DATASET_ACK -> new DataSetAck(in.i64(), in.status(), in.string());
                case HASH_REQUEST -> new HashRequest(in.volumeId(), in.i64(), in.i64(), in.i32());
                case HASH_REPLY -> HashReply.read(in);
                case GENERATION -> GenerationUpdate.read(in);
                case READ_REQUEST -> new ReadRequest(in.volumeId(), in.i64(), in.i32(), (frame.flags() & LinkFrame.FLAG_ZEROS) != 0);
                case READ_REPLY -> (frame.flags() & LinkFrame.FLAG_ZEROS) != 0 ? ReadReply.zeros(in.status(), in.i32())
                        : new ReadReply(in.status(), in.rest());
                default -> throw new LinkProtocolException(LinkStatus.UNKNOWN_MESSAGE_TYPE,
                        "message type " + frame.type() + " is reserved and not supported");
            };
            int allowed = switch (frame.type()) {
                case WRITE -> LinkFrame.FLAG_FUA;
                case DATASET_BEGIN -> LinkFrame.FLAG_DIRECT;
                case READ_REQUEST, READ_REPLY -> LinkFrame.FLAG_ZEROS;
                default -> 0;
            };
            if ((frame.flags() & ~allowed) != 0) {
                throw in.bad("flags 0x" + Integer.toHexString(frame.flags()) + " are not valid on " + frame.type()
                        + " (FUA is only valid on WRITE, DIRECT only on DATASET_BEGIN, ZEROS only on READ_REQUEST and READ_REPLY)");
            }
            in.end();
            return m;
        } catch (BufferUnderflowException e) {
            throw in.bad("payload ends early");
        } catch (IllegalArgumentException e) {
            throw in.bad(e.getMessage());
        }
    }

    /** One volume as a side describes it in HELLO. */
    record VolumeInfo(String id, long size, int regionSize, Role role, List<Generation> history) {
        public VolumeInfo {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(role, "role");
            history = List.copyOf(history);
        }
    }

    /** Result of attaching one volume, sent by the secondary after its HELLO. */
    record AttachResult(String volume, LinkStatus status, String message) {
        public AttachResult {
            Objects.requireNonNull(volume, "volume");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(message, "message");
        }

        public boolean ok() {
            return status == LinkStatus.OK;
        }
    }

    record AuthChallenge(String nodeId, byte[] nonce) implements LinkMessage {
        public AuthChallenge {
            Objects.requireNonNull(nodeId, "nodeId");
            nonce = nonce.clone();
        }

        @Override
        public byte[] nonce() {
            return nonce.clone();
        }

        public MessageType type() {
            return MessageType.AUTH_CHALLENGE;
        }

        public void writePayload(Out out) {
            out.string(nodeId).bytes(nonce);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AuthChallenge a && a.nodeId.equals(nodeId) && java.util.Arrays.equals(a.nonce, nonce);
        }

        @Override
        public int hashCode() {
            return nodeId.hashCode() * 31 + java.util.Arrays.hashCode(nonce);
        }
    }

    record AuthResponse(byte[] mac) implements LinkMessage {
        public AuthResponse {
            mac = mac.clone();
        }

        @Override
        public byte[] mac() {
            return mac.clone();
        }

        public MessageType type() {
            return MessageType.AUTH_RESPONSE;
        }

        public void writePayload(Out out) {
            out.bytes(mac);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AuthResponse a && java.util.Arrays.equals(a.mac, mac);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(mac);
        }
    }

    record Hello(String nodeId, int protocolVersion, List<VolumeInfo> volumes) implements LinkMessage {
        public Hello {
            Objects.requireNonNull(nodeId, "nodeId");
            volumes = List.copyOf(volumes);
        }

        public MessageType type() {
            return MessageType.HELLO;
        }

        public void writePayload(Out out) {
            out.string(nodeId).u16(protocolVersion).u16(volumes.size());
            for (VolumeInfo v : volumes) {
                out.string(v.id()).i64(v.size()).i32(v.regionSize()).u8(v.role().ordinal());
                writeHistory(out, v.history());
            }
        }

        static Hello read(In in) throws LinkProtocolException {
            String node = in.string();
            int version = in.u16();
            int count = in.u16();
            List<VolumeInfo> volumes = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String id = in.volumeId();
                long size = in.i64();
                int regionSize = in.i32();
                int roleCode = in.u8();
                if (roleCode >= Role.values().length) {
                    throw in.bad("unknown role code " + roleCode + " for volume '" + id + "'");
                }
                List<Generation> history = readHistory(in);
                volumes.add(new VolumeInfo(id, size, regionSize, Role.values()[roleCode], history));
            }
            return new Hello(node, version, volumes);
        }
    }

    private static void writeHistory(Out out, List<Generation> history) {
        out.u16(history.size());
        for (Generation g : history) {
            out.i64(g.generationId()).string(g.nodeId()).i64(g.startEpochMillis());
        }
    }

    private static List<Generation> readHistory(In in) throws LinkProtocolException {
        int count = in.u16();
        List<Generation> history = new ArrayList<>(count);
        for (int g = 0; g < count; g++) {
            history.add(new Generation(in.i64(), in.string(), in.i64()));
        }
        return history;
    }

    /** The primary tells the secondary where the resync of {@code volume} stands (see the class comment). */
    record GenerationUpdate(String volume, boolean inSync, List<Generation> history) implements LinkMessage {
        public GenerationUpdate {
            VolumeId.require(volume);
            history = List.copyOf(history);
            if (history.isEmpty()) {
                throw new IllegalArgumentException("a generation update carries at least the current generation");
            }
        }

        public MessageType type() {
            return MessageType.GENERATION;
        }

        public void writePayload(Out out) {
            out.string(volume).u8(inSync ? 1 : 0);
            writeHistory(out, history);
        }

        static GenerationUpdate read(In in) throws LinkProtocolException {
            String volume = in.volumeId();
            int inSync = in.u8();
            if (inSync > 1) {
                throw in.bad("inSync must be 0 or 1, not " + inSync);
            }
            return new GenerationUpdate(volume, inSync == 1, readHistory(in));
        }
    }

    record Attached(List<AttachResult> results) implements LinkMessage {
        public Attached {
            results = List.copyOf(results);
        }

        public MessageType type() {
            return MessageType.ATTACHED;
        }

        public void writePayload(Out out) {
            out.u16(results.size());
            for (AttachResult r : results) {
                out.string(r.volume()).u16(r.status().code()).string(r.message());
            }
        }

        static Attached read(In in) throws LinkProtocolException {
            int count = in.u16();
            List<AttachResult> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                results.add(new AttachResult(in.volumeId(), in.status(), in.string()));
            }
            return new Attached(results);
        }
    }

    record Write(String volume, long offset, boolean fua, ByteBuffer data) implements LinkMessage {
        public Write {
            Objects.requireNonNull(volume, "volume");
            if (data.remaining() > LinkFrame.MAX_DATA) {
                throw new IllegalArgumentException("write of " + data.remaining() + " bytes exceeds " + LinkFrame.MAX_DATA);
            }
            data = data.slice().asReadOnlyBuffer();
        }

        @Override
        public ByteBuffer data() {
            return data.duplicate();
        }

        public MessageType type() {
            return MessageType.WRITE;
        }

        @Override
        public int flags() {
            return fua ? LinkFrame.FLAG_FUA : 0;
        }

        public void writePayload(Out out) {
            out.string(volume).i64(offset).raw(data.duplicate());
        }
    }

    record Ack(LinkStatus status, String message) implements LinkMessage {
        public static final Ack OK = new Ack(LinkStatus.OK, "");

        public Ack {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(message, "message");
        }

        public MessageType type() {
            return MessageType.ACK;
        }

        public void writePayload(Out out) {
            out.u16(status.code()).string(message);
        }
    }

    record Flush(String volume) implements LinkMessage {
        public Flush {
            Objects.requireNonNull(volume, "volume");
        }

        public MessageType type() {
            return MessageType.FLUSH;
        }

        public void writePayload(Out out) {
            out.string(volume);
        }
    }

    record Ping() implements LinkMessage {
        public MessageType type() {
            return MessageType.PING;
        }

        public void writePayload(Out out) {
        }
    }

    record Pong() implements LinkMessage {
        public MessageType type() {
            return MessageType.PONG;
        }

        public void writePayload(Out out) {
        }
    }

    record Error(LinkStatus status, String message) implements LinkMessage {
        public Error {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(message, "message");
        }

        public MessageType type() {
            return MessageType.ERROR;
        }

        public void writePayload(Out out) {
            out.u16(status.code()).string(message);
        }
    }

    record Bye(String reason) implements LinkMessage {
        public Bye {
            Objects.requireNonNull(reason, "reason");
        }

        public MessageType type() {
            return MessageType.BYE;
        }

        public void writePayload(Out out) {
            out.string(reason);
        }
    }

    /**
     * Opens data set {@code setId} on {@code volume}: {@code extentCount} extents of {@code totalBytes} in all follow.
     * {@code direct} (frame flag DIRECT): the receiver writes the extents to the volume as they arrive and flushes
     * it at COMMIT instead of journaling the set first. Only for a copy onto a replica that is inconsistent until
     * the copy ends (a resync, a full copy, an initial sync): a set cut short leaves torn regions there, which its
     * sender, never acknowledged, sends again. It halves what the replica's disk writes per copied byte.
     */
    record DataSetBegin(String volume, long setId, int extentCount, long totalBytes, boolean direct) implements LinkMessage {
        public DataSetBegin {
            Objects.requireNonNull(volume, "volume");
            requireNonNegative("set id", setId);
            requireNonNegative("extent count", extentCount);
            requireNonNegative("total bytes", totalBytes);
        }

        /** A journaled set. */
        public DataSetBegin(String volume, long setId, int extentCount, long totalBytes) {
            this(volume, setId, extentCount, totalBytes, false);
        }

        public MessageType type() {
            return MessageType.DATASET_BEGIN;
        }

        @Override
        public int flags() {
            return direct ? LinkFrame.FLAG_DIRECT : 0;
        }

        public void writePayload(Out out) {
            out.string(volume).i64(setId).i32(extentCount).i64(totalBytes);
        }
    }

    /** One extent of the open data set: {@code data} to be written at {@code offset}. */
    record DataSetExtent(long setId, long offset, ByteBuffer data) implements LinkMessage {
        public DataSetExtent {
            requireNonNegative("set id", setId);
            if (data.remaining() > LinkFrame.MAX_DATA) {
                throw new IllegalArgumentException("extent of " + data.remaining() + " bytes exceeds " + LinkFrame.MAX_DATA);
            }
            data = data.slice().asReadOnlyBuffer();
        }

        @Override
        public ByteBuffer data() {
            return data.duplicate();
        }

        public MessageType type() {
            return MessageType.DATASET_EXTENT;
        }

        public void writePayload(Out out) {
            out.i64(setId).i64(offset).raw(data.duplicate());
        }
    }

    /** Closes data set {@code setId}: the secondary applies it only if count and {@link DataSetCrc} match what it received. */
    record DataSetCommit(long setId, int extentCount, int crc32c) implements LinkMessage {
        public DataSetCommit {
            requireNonNegative("set id", setId);
            requireNonNegative("extent count", extentCount);
        }

        public MessageType type() {
            return MessageType.DATASET_COMMIT;
        }

        public void writePayload(Out out) {
            out.i64(setId).i32(extentCount).i32(crc32c);
        }
    }

    /** The secondary's answer to a COMMIT: OK only after the whole set is durable on its volume. */
    record DataSetAck(long setId, LinkStatus status, String message) implements LinkMessage {
        public DataSetAck {
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(message, "message");
        }

        public MessageType type() {
            return MessageType.DATASET_ACK;
        }

        public void writePayload(Out out) {
            out.i64(setId).u16(status.code()).string(message);
        }
    }

    /**
     * Asks for the SHA-256 of each {@code blockSize} block of {@code [offset, offset+length)}; the
     * last block may be short. At most {@link #MAX_HASH_BLOCKS} blocks and {@link #MAX_HASH_BYTES} bytes.
     */
    record HashRequest(String volume, long offset, long length, int blockSize) implements LinkMessage {
        public HashRequest {
            Objects.requireNonNull(volume, "volume");
            requireNonNegative("offset", offset);
            requireNonNegative("length", length);
            if (blockSize < MIN_HASH_BLOCK || blockSize > MAX_HASH_BLOCK) {
                throw new IllegalArgumentException("hash block size " + blockSize + " is outside " + MIN_HASH_BLOCK + ".." + MAX_HASH_BLOCK);
            }
            if (length > MAX_HASH_BYTES || blockCount(length, blockSize) > MAX_HASH_BLOCKS) {
                throw new IllegalArgumentException("hash request of " + length + " bytes in blocks of " + blockSize
                        + " exceeds " + MAX_HASH_BLOCKS + " blocks or " + MAX_HASH_BYTES + " bytes");
            }
        }

        /** Number of digests the reply carries. */
        public int blocks() {
            return (int) blockCount(length, blockSize);
        }

        public static long blockCount(long length, int blockSize) {
            return (length + blockSize - 1) / blockSize;
        }

        public MessageType type() {
            return MessageType.HASH_REQUEST;
        }

        public void writePayload(Out out) {
            out.string(volume).i64(offset).i64(length).i32(blockSize);
        }
    }

    /** One SHA-256 digest per requested block, in order. */
    record HashReply(List<byte[]> digests) implements LinkMessage {
        public HashReply {
            if (digests.size() > MAX_HASH_BLOCKS) {
                throw new IllegalArgumentException(digests.size() + " digests exceed " + MAX_HASH_BLOCKS);
            }
            List<byte[]> copy = new ArrayList<>(digests.size());
            for (byte[] d : digests) {
                if (d.length != DIGEST_BYTES) {
                    throw new IllegalArgumentException("a digest is " + d.length + " bytes, not " + DIGEST_BYTES);
                }
                copy.add(d.clone());
            }
            digests = java.util.Collections.unmodifiableList(copy);
        }

        /** Copies of the digests. */
        @Override
        public List<byte[]> digests() {
            return digests.stream().map(byte[]::clone).toList();
        }

        public MessageType type() {
            return MessageType.HASH_REPLY;
        }

        public void writePayload(Out out) {
            out.i32(digests.size());
            digests.forEach(d -> out.raw(ByteBuffer.wrap(d)));
        }

        static HashReply read(In in) throws LinkProtocolException {
            int count = in.i32();
            if (count < 0 || count > MAX_HASH_BLOCKS) {
                throw in.bad("digest count " + count + " is outside 0.." + MAX_HASH_BLOCKS);
            }
            List<byte[]> digests = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                digests.add(in.fixed(DIGEST_BYTES));
            }
            return new HashReply(digests);
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof HashReply h) || h.digests.size() != digests.size()) {
                return false;
            }
            for (int i = 0; i < digests.size(); i++) {
                if (!java.util.Arrays.equals(h.digests.get(i), digests.get(i))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (byte[] d : digests) {
                h = 31 * h + java.util.Arrays.hashCode(d);
            }
            return h;
        }

        @Override
        public String toString() {
            return "HashReply[" + digests.size() + " digests]";
        }
    }

    /** Asks for the bytes {@code [offset, offset+length)} of {@code volume}; 0 < length ≤ {@link #MAX_READ}. */
    record ReadRequest(String volume, long offset, int length, boolean zerosOk) implements LinkMessage {
        public ReadRequest {
            Objects.requireNonNull(volume, "volume");
            requireNonNegative("offset", offset);
            if (length <= 0 || length > MAX_READ) {
                throw new IllegalArgumentException("read length " + length + " is outside 1.." + MAX_READ);
            }
        }

        /** A read answered with every byte, zeros too. */
        public ReadRequest(String volume, long offset, int length) {
            this(volume, offset, length, false);
        }

        public MessageType type() {
            return MessageType.READ_REQUEST;
        }

        /** ZEROS: {@code zerosOk}, a range of zeros may be answered by its length (a hole costs no wire bytes). */
        @Override
        public int flags() {
            return zerosOk ? LinkFrame.FLAG_ZEROS : 0;
        }

        public void writePayload(Out out) {
            out.string(volume).i64(offset).i32(length);
        }
    }

    /**
     * The answer to a READ_REQUEST: {@link LinkStatus#OK} with every requested byte, or an error
     * status ({@link LinkStatus#UNKNOWN_VOLUME}, {@link LinkStatus#OUT_OF_RANGE}, {@link LinkStatus#IO_ERROR})
     * with no data. {@link #data()} is a read-only view.
     */
    record ReadReply(LinkStatus status, ByteBuffer data, int zeros) implements LinkMessage {
        public ReadReply {
            Objects.requireNonNull(status, "status");
            if (data.remaining() > MAX_READ) {
                throw new IllegalArgumentException("read reply of " + data.remaining() + " bytes exceeds " + MAX_READ);
            }
            if (status != LinkStatus.OK && data.hasRemaining()) {
                throw new IllegalArgumentException("a " + status + " read reply carries " + data.remaining() + " bytes; it must carry none");
            }
            if (zeros < 0 || zeros > MAX_READ || (zeros > 0 && (status != LinkStatus.OK || data.hasRemaining()))) {
                throw new IllegalArgumentException("a read reply of " + zeros + " zeros must be OK, carry no data and be at most "
                        + MAX_READ);
            }
            data = data.slice();
        }

        /** {@code status} and the bytes read (none unless OK). */
        public ReadReply(LinkStatus status, ByteBuffer data) {
            this(status, data, 0);
        }

        /** OK: the {@code length} bytes asked for are all zero (flag ZEROS; sent only when the request allowed it). */
        public static ReadReply zeros(LinkStatus status, int length) {
            if (length <= 0) {
                throw new IllegalArgumentException("a zeros read reply of " + length + " bytes");
            }
            return new ReadReply(status, ByteBuffer.allocate(0), length);
        }

        /** A refusal: {@code status} and no data. */
        public static ReadReply refused(LinkStatus status) {
            return new ReadReply(status, ByteBuffer.allocate(0));
        }

        /** The bytes the reply stands for: its data, or its count of zeros. */
        public int length() {
            return zeros > 0 ? zeros : data.remaining();
        }

        @Override
        public int flags() {
            return zeros > 0 ? LinkFrame.FLAG_ZEROS : 0;
        }

        @Override
        public ByteBuffer data() {
            return data.asReadOnlyBuffer();
        }

        /** The status, then the data straight from its buffer (the source side of a replay sends every copied byte this way). */
        @Override
        public void writeFrame(OutputStream out, long requestId) throws IOException {
            if (zeros > 0) {
                out.write(toFrame(requestId).encode());
                return;
            }
            ByteBuffer code = ByteBuffer.allocate(2).putShort((short) status.code()).flip();
            LinkFrame.write(out, type(), 0, requestId, code, data);
        }

        public MessageType type() {
            return MessageType.READ_REPLY;
        }

        public void writePayload(Out out) {
            out.u16(status.code());
            if (zeros > 0) {
                out.i32(zeros);
            } else {
                out.raw(data.duplicate());
            }
        }
    }

    private static void requireNonNegative(String what, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " " + value + " is negative");
        }
    }

    /** Payload writer. Not thread-safe. */
    final class Out {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8);

        Out u8(int v) {
            buf.write(v);
            return this;
        }

        Out u16(int v) {
            if (v < 0 || v > 0xFFFF) {
                throw new IllegalArgumentException("value " + v + " does not fit 16 bits");
            }
            buf.write(v >>> 8);
            buf.write(v);
            return this;
        }

        Out i32(int v) {
            scratch.clear();
            buf.write(scratch.putInt(v).array(), 0, 4);
            return this;
        }

        Out i64(long v) {
            scratch.clear();
            buf.write(scratch.putLong(v).array(), 0, 8);
            return this;
        }

        Out string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > MAX_STRING) {
                throw new IllegalArgumentException("string of " + b.length + " bytes exceeds " + MAX_STRING);
            }
            u16(b.length);
            buf.write(b, 0, b.length);
            return this;
        }

        Out bytes(byte[] b) {
            u16(b.length);
            buf.write(b, 0, b.length);
            return this;
        }

        Out raw(ByteBuffer b) {
            if (b.hasArray()) {
                buf.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
            } else {
                byte[] copy = new byte[b.remaining()];
                b.get(copy);
                buf.write(copy, 0, copy.length);
            }
            return this;
        }

        ByteBuffer toBuffer() {
            return ByteBuffer.wrap(buf.toByteArray());
        }
    }

    /** Payload reader; turns every shortfall into a {@link LinkProtocolException}. Not thread-safe. */
    final class In {
        private final ByteBuffer b;
        private final MessageType type;

        In(ByteBuffer b, MessageType type) {
            this.b = b;
            this.type = type;
        }

        LinkProtocolException bad(String why) {
            return new LinkProtocolException(LinkStatus.MALFORMED_FRAME, "malformed " + type + " payload: " + why);
        }

        int u8() {
            return b.get() & 0xFF;
        }

        int u16() {
            return b.getShort() & 0xFFFF;
        }

        int i32() {
            return b.getInt();
        }

        long i64() {
            return b.getLong();
        }

        byte[] bytes() throws LinkProtocolException {
            int n = u16();
            if (n > b.remaining()) {
                throw bad("field of " + n + " bytes but only " + b.remaining() + " left");
            }
            byte[] out = new byte[n];
            b.get(out);
            return out;
        }

        byte[] fixed(int n) {
            byte[] out = new byte[n];
            b.get(out);
            return out;
        }

        String string() throws LinkProtocolException {
            byte[] raw = bytes();
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw bad("string is not valid UTF-8");
            }
        }

        String volumeId() throws LinkProtocolException {
            String id = string();
            if (!VolumeId.isValid(id)) {
                throw bad("'" + id + "' is not a valid volume id");
            }
            return id;
        }

        LinkStatus status() {
            return LinkStatus.fromCode(u16());
        }

        ByteBuffer rest() {
            ByteBuffer r = b.slice();
            b.position(b.limit());
            return r;
        }

        void end() throws LinkProtocolException {
            if (b.hasRemaining()) {
                throw bad(b.remaining() + " unexpected trailing bytes");
            }
        }
    }
}
