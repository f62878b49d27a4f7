package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle negotiation phase of one connection: greeting, client flags, then options
 * until the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or leaves. Runs on the
 * connection's reader thread; holds no state beyond one negotiation.
 *
 * <p>Supported: EXPORT_NAME, ABORT, LIST, INFO and GO (with NBD_INFO_EXPORT, and
 * NBD_INFO_BLOCK_SIZE when asked), and STARTTLS when the server has {@link NbdTls}; when TLS is
 * required, every other option before it gets NBD_REP_ERR_TLS_REQD (EXPORT_NAME, which has no
 * error reply, closes). Everything else, structured replies included, gets NBD_REP_ERR_UNSUP, so
 * clients fall back to simple replies.
 */
final class NbdHandshake {
    private static final Logger log = LoggerFactory.getLogger(NbdHandshake.class);

    private final NbdSocket socket;
    private final NbdExportRegistry registry;
    private final String peer;
    private final NbdTls tls;
    private boolean noZeroes;

    /** {@code tls} is null when the server offers no TLS. */
    NbdHandshake(NbdSocket socket, NbdExportRegistry registry, String peer, NbdTls tls) {
        this.socket = socket;
        this.registry = registry;
        this.peer = peer;
        this.tls = tls;
    }

    /**
     * Negotiates; returns the chosen export, or empty when the client aborted or must be dropped
     * (bad magic, unknown client flags, unknown export via EXPORT_NAME). The caller then closes.
     */
    Optional<NbdExport> negotiate() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(GREETING_SIZE);
        putGreeting(greeting);
        socket.send(greeting.flip());
        socket.flush();
        int clientFlags = socket.require(4).getInt();
        if ((clientFlags & ~KNOWN_CLIENT_FLAGS) != 0) {
            log.warn("{}: unknown client flags 0x{}; closing", peer, Integer.toHexString(clientFlags));
            return Optional.empty();
        }
        noZeroes = (clientFlags & CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            OptionHeader header = getOptionHeader(socket.require(OPTION_HEADER_SIZE));
            if (header == null) {
                log.warn("{}: bad option magic; closing", peer);
                return Optional.empty();
            }
            if (header.length() > MAX_OPTION_LENGTH) {
                socket.skip(header.length());
                replyError(header.option(), REP_ERR_TOO_BIG, "option data too long");
                socket.flush();
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate((int) header.length());
            socket.readFully(data);
            data.flip();
            Step step = handle(header.option(), data);
            socket.flush();
            if (step.done) {
                return Optional.ofNullable(step.export);
            }
        }
    }

    private record Step(boolean done, NbdExport export) {
        static final Step CONTINUE = new Step(false, null);
        static final Step LEAVE = new Step(true, null);
    }

    private Step handle(int option, ByteBuffer data) throws IOException {
        if (tls != null && tls.required() && !socket.tls() && option != OPT_STARTTLS && option != OPT_ABORT) {
            if (option == OPT_EXPORT_NAME) {
                // No error reply exists for NBD_OPT_EXPORT_NAME; the spec says to disconnect.
                log.info("{}: NBD_OPT_EXPORT_NAME without TLS, which this server requires; closing", peer);
                return Step.LEAVE;
            }
            replyError(option, REP_ERR_TLS_REQD, "TLS required: negotiate NBD_OPT_STARTTLS first");
            return Step.CONTINUE;
        }
        switch (option) {
            case OPT_STARTTLS:
                return startTls(data);
            case OPT_EXPORT_NAME:
                return exportName(data);
            case OPT_ABORT:
                ack(option);
                return Step.LEAVE;
            case OPT_LIST:
                list(data);
                return Step.CONTINUE;
            case OPT_INFO:
            case OPT_GO:
                return infoOrGo(option, data);
            default:
                log.debug("{}: unsupported option {}", peer, option);
                replyError(option, REP_ERR_UNSUP, option == OPT_STRUCTURED_REPLY ? "only simple replies" : "unsupported option");
                return Step.CONTINUE;
        }
    }

    /** NBD_OPT_STARTTLS: acknowledge, then the TLS handshake; negotiation goes on over TLS. */
    private Step startTls(ByteBuffer data) throws IOException {
        if (tls == null) {
            replyError(OPT_STARTTLS, REP_ERR_UNSUP, "TLS is not configured on this server (producer.nbd.tls.keystore)");
            return Step.CONTINUE;
        }
        if (socket.tls()) {
            replyError(OPT_STARTTLS, REP_ERR_INVALID, "TLS already negotiated");
            return Step.CONTINUE;
        }
        if (data.hasRemaining()) {
            replyError(OPT_STARTTLS, REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
            return Step.CONTINUE;
        }
        if (socket.hasBufferedInput()) {
            log.warn("{}: plain-text bytes after NBD_OPT_STARTTLS; closing", peer);
            return Step.LEAVE;
        }
        ack(OPT_STARTTLS);
        socket.flush();
        socket.upgrade(tls.handshake(socket.raw()));
        log.debug("{}: TLS negotiated", peer);
        return Step.CONTINUE;
    }

    private Step exportName(ByteBuffer data) throws IOException {
        Optional<NbdExport> export = decodeName(data, data.remaining()).flatMap(this::lookup);
        if (export.isEmpty()) {
            // NBD_OPT_EXPORT_NAME has no error reply; the spec says to drop the connection.
            log.info("{}: NBD_OPT_EXPORT_NAME for an unknown export; closing", peer);
            return Step.LEAVE;
        }
        NbdExport e = export.get();
        ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : EXPORT_NAME_PADDING));
        reply.putLong(e.size()).putShort((short) transmissionFlags(e));
        socket.send(reply.position(reply.capacity()).flip());
        return new Step(true, e);
    }

    private void list(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            replyError(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        for (NbdExport export : registry.list()) {
            byte[] server = serverReplyData(export.name());
            reply(OPT_LIST, REP_SERVER, ByteBuffer.wrap(server));
        }
        ack(OPT_LIST);
    }

    private Step infoOrGo(int option, ByteBuffer data) throws IOException {
        Optional<InfoRequest> request = InfoRequest.decode(data);
        if (request.isEmpty()) {
            replyError(option, REP_ERR_INVALID, "malformed info request");
            return Step.CONTINUE;
        }
        Optional<NbdExport> export = request.get().name().flatMap(this::lookup);
        if (export.isEmpty()) {
            replyError(option, REP_ERR_UNKNOWN, "no such export");
            return Step.CONTINUE;
        }
        NbdExport e = export.get();
        ByteBuffer info = ByteBuffer.allocate(INFO_BLOCK_SIZE_SIZE);
        putInfoExport(info, e.size(), transmissionFlags(e));
        reply(option, REP_INFO, info.flip());
        if (request.get().types().contains(INFO_BLOCK_SIZE)) {
            info.clear();
            putInfoBlockSize(info, 1, PREFERRED_BLOCK_SIZE, MAX_PAYLOAD);
            reply(option, REP_INFO, info.flip());
        }
        ack(option);
        return option == OPT_GO ? new Step(true, e) : Step.CONTINUE;
    }

    /** The export for a name; the empty name means the only export, when there is exactly one. */
    private Optional<NbdExport> lookup(String name) {
        if (name.isEmpty()) {
            List<NbdExport> all = registry.list();
            return all.size() == 1 ? Optional.of(all.get(0)) : Optional.empty();
        }
        return registry.find(name);
    }

    private void ack(int option) throws IOException {
        reply(option, REP_ACK, ByteBuffer.allocate(0));
    }

    private void replyError(int option, int type, String message) throws IOException {
        reply(option, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    private void reply(int option, int type, ByteBuffer data) throws IOException {
        int length = data.remaining();
        ByteBuffer header = ByteBuffer.allocate(OPTION_REPLY_HEADER_SIZE + length);
        putOptionReplyHeader(header, option, type, length);
        header.put(data);
        socket.send(header.flip());
    }

    /** Decodes {@code length} bytes of UTF-8; empty when they are not valid UTF-8. */
    static Optional<String> decodeName(ByteBuffer data, int length) {
        ByteBuffer bytes = data.slice(data.position(), length);
        data.position(data.position() + length);
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** The data of NBD_OPT_INFO/GO: name length, name, count of info types, the types. */
    record InfoRequest(Optional<String> name, List<Integer> types) {
        static Optional<InfoRequest> decode(ByteBuffer data) {
            if (data.remaining() < 4) {
                return Optional.empty();
            }
            long nameLength = Integer.toUnsignedLong(data.getInt());
            if (nameLength > data.remaining() - 2) {
                return Optional.empty();
            }
            Optional<String> name = decodeName(data, (int) nameLength);
            int count = Short.toUnsignedInt(data.getShort());
            if (data.remaining() != 2 * count) {
                return Optional.empty();
            }
            Integer[] types = new Integer[count];
            for (int i = 0; i < count; i++) {
                types[i] = Short.toUnsignedInt(data.getShort());
            }
            return Optional.of(new InfoRequest(name, List.of(types)));
        }
    }
}
