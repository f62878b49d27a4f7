package io.blockrep.producer.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The NBD wire layout, and only that: magics, option, reply, command and flag numbers, and the
 * encoding of every fixed-size header this server reads or writes. All fields are big-endian
 * (network order), which is {@link ByteBuffer}'s default. Follows doc/proto.md of
 * NetworkBlockDevice/nbd (fixed newstyle negotiation, simple replies only).
 *
 * <p>Stateless and thread-safe; the encode methods assume the caller checked that {@code out} has
 * room for the header.
 */
final class NbdWire {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454f5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    /** Server greeting after NBDMAGIC: 8 (NBDMAGIC) + 8 (IHAVEOPT) + 2 (handshake flags). */
    static final int GREETING_SIZE = 18;
    /** Client option header: IHAVEOPT, option, length. */
    static final int OPTION_HEADER_SIZE = 16;
    /** Server option reply header: magic, option, reply type, length. */
    static final int OPTION_REPLY_HEADER_SIZE = 20;
    static final int REQUEST_SIZE = 28;
    static final int SIMPLE_REPLY_SIZE = 16;
    /** Zero padding after the NBD_OPT_EXPORT_NAME reply unless the client sent NBD_FLAG_C_NO_ZEROES. */
    static final int EXPORT_NAME_PADDING = 124;

    // Handshake flags (server) and client flags.
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;
    static final int KNOWN_CLIENT_FLAGS = CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES;

    // Options.
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;

    // Option reply types.
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_TLS_REQD = 0x80000005;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    // NBD_REP_INFO types.
    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;
    static final int INFO_EXPORT_SIZE = 12;
    static final int INFO_BLOCK_SIZE_SIZE = 14;

    // Transmission flags.
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_READ_ONLY = 1 << 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    // Commands and command flags.
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;

    // Errors (the spec's errno values).
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;

    /** Largest READ or WRITE payload this server accepts; advertised as the maximum block size. */
    static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    static final int PREFERRED_BLOCK_SIZE = 4096;
    /** Largest option payload read; export names are at most 4096 bytes, so this is generous. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;

    private NbdWire() {
    }

    /** One transmission-phase request; {@code length} is the unsigned 32-bit length field. */
    record Request(int flags, int type, long cookie, long offset, long length) {
        boolean fua() {
            return (flags & CMD_FLAG_FUA) != 0;
        }
    }

    /** One client option header; {@code length} is the unsigned 32-bit data length that follows. */
    record OptionHeader(int option, long length) {
    }

    /** Transmission flags for an export: everything this server implements, plus read-only when it is. */
    static int transmissionFlags(NbdExport export) {
        int flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES;
        if (export.readOnly()) {
            flags |= TFLAG_READ_ONLY;
        }
        if (export.canMultiConn()) {
            flags |= TFLAG_CAN_MULTI_CONN;
        }
        return flags;
    }

    static void putGreeting(ByteBuffer out) {
        out.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
    }

    /** Decodes an option header; returns null when the IHAVEOPT magic is wrong. */
    static OptionHeader getOptionHeader(ByteBuffer in) {
        long magic = in.getLong();
        int option = in.getInt();
        long length = Integer.toUnsignedLong(in.getInt());
        return magic == IHAVEOPT ? new OptionHeader(option, length) : null;
    }

    static void putOptionReplyHeader(ByteBuffer out, int option, int replyType, int dataLength) {
        out.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(replyType).putInt(dataLength);
    }

    /** NBD_REP_SERVER data for NBD_OPT_LIST: name length, then the UTF-8 name. */
    static byte[] serverReplyData(String exportName) {
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).array();
    }

    static void putInfoExport(ByteBuffer out, long size, int transmissionFlags) {
        out.putShort((short) INFO_EXPORT).putLong(size).putShort((short) transmissionFlags);
    }

    static void putInfoBlockSize(ByteBuffer out, int minimum, int preferred, int maximum) {
        out.putShort((short) INFO_BLOCK_SIZE).putInt(minimum).putInt(preferred).putInt(maximum);
    }

    /** Decodes a request header; returns null when the request magic is wrong. */
    static Request getRequest(ByteBuffer in) {
        int magic = in.getInt();
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long cookie = in.getLong();
        long offset = in.getLong();
        long length = Integer.toUnsignedLong(in.getInt());
        return magic == REQUEST_MAGIC ? new Request(flags, type, cookie, offset, length) : null;
    }

    static void putRequest(ByteBuffer out, Request r) {
        out.putInt(REQUEST_MAGIC).putShort((short) r.flags()).putShort((short) r.type())
                .putLong(r.cookie()).putLong(r.offset()).putInt((int) r.length());
    }

    static void putSimpleReply(ByteBuffer out, int error, long cookie) {
        out.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            default -> "command " + type;
        };
    }
}
