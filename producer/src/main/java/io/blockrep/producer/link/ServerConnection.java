package io.blockrep.producer.link;

import io.blockrep.common.link.BlockHashes;
import io.blockrep.common.link.LinkAuth;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkMessage.Ack;
import io.blockrep.common.link.LinkMessage.AttachResult;
import io.blockrep.common.link.LinkMessage.Attached;
import io.blockrep.common.link.LinkMessage.AuthChallenge;
import io.blockrep.common.link.LinkMessage.AuthResponse;
import io.blockrep.common.link.LinkMessage.Hello;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkProtocolException;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.SyncDecision;
import io.blockrep.common.volume.Volume;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted connection of {@link LinkServer}; runs on its own reader thread. See the server's invariants.
 *
 * <p>A failure of this side's storage (a WRITE, a FUA or FLUSH, a data set's journal or its apply,
 * or recording that a resync began) is answered first, with an ACK or DATASET_ACK of status
 * {@link LinkStatus#IO_ERROR}, so the sender's stage for exactly that request fails with the
 * peer's refusal; then the connection ends with an ERROR (IO_ERROR) and no later frame of it is
 * applied. Why end it: a primary that only saw the refusal would have nothing that tells it when
 * the store works again, while a link that goes down puts it in LOGGING with the failed regions
 * dirty, and the next healthy connection (after the damping) starts the normal resync, which
 * fails the same way until the store recovers. The copy stays what a crash would leave: a
 * prefix of the mirrored writes in order (the failed one possibly torn), its generation
 * unchanged; a copy being resynced is already marked inconsistent ({@link LinkVolumes#resyncBegun}).
 * A request this side refuses for what it asks (out of range, a mismatched set) is not a storage
 * failure: its negative answer leaves the connection up.
 *
 * <p>An unexpected exception serving the connection (a bug, a {@link RuntimeException} or an {@link Error}
 * other than a {@link VirtualMachineError}) ends this connection only, with an ERROR of status
 * {@link LinkStatus#INTERNAL} that names it, logged at ERROR: the primary's link goes down and connects
 * again after its backoff, as after a network failure, which loses nothing (its bitmap keeps what it
 * could not mirror). A {@link VirtualMachineError} is left to the process's backstop, which exits.
 *
 * <p>Before the handshake is done (TLS when configured, the HMAC challenge, HELLO) no frame larger
 * than {@link LinkFrame#PRE_AUTH_MAX_PAYLOAD} is read and nothing of the connection's frame buffer is
 * allocated; the server's watchdog closes a connection whose handshake outlives its deadline
 * ({@link #handshakeDeadlinePassed}, the only method another thread calls besides {@link #close}).
 */
final class ServerConnection implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

    private final Socket socket;
    /** What the frames travel on: {@link #socket} itself, or the TLS session over it. */
    private volatile Socket active;
    private volatile boolean handshakeDone;
    private final LinkServerConfig config;
    private final LinkVolumes volumes;
    private final Consumer<ServerConnection> onClosed;
    private final Set<String> attached = new HashSet<>();
    private volatile String peer = "?";
    private DataSetReceiver sets;
    /** Reused by {@link #readFrame}; allocated after the handshake at a replay extent's frame (1 MiB of data), and grows. */
    private ByteBuffer frameBuffer;
    /** Reused for the data of READ replies; grows to the largest read. */
    private ByteBuffer readBuffer = ByteBuffer.allocate(0);

    ServerConnection(Socket socket, LinkServerConfig config, LinkVolumes volumes, Consumer<ServerConnection> onClosed) {
        this.socket = socket;
        this.config = config;
        this.volumes = volumes;
        this.onClosed = onClosed;
    }

    @Override
    public void run() {
        try (socket) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) config.handshakeTimeout().toMillis());
            active = config.tls() == null ? socket : secure();
            if (active == null) {
                return;
            }
            InputStream in = new BufferedInputStream(active.getInputStream(), 64 * 1024);
            OutputStream out = new BufferedOutputStream(active.getOutputStream(), 64 * 1024);
            try {
                authenticate(in, out);
                hello(in, out);
                handshakeDone = true;
                frameBuffer = ByteBuffer.allocate((1 << 20) + 4096);
                sets = new DataSetReceiver(peer, volumes);
                active.setSoTimeout((int) config.idleTimeout().toMillis());
                while (serve(readFrame(in), in, out)) {
                    // next frame
                }
            } catch (LinkProtocolException e) {
                log.warn("link from {} ({}): {}; closing", peer, socket.getRemoteSocketAddress(), e.getMessage());
                send(out, 0, new LinkMessage.Error(e.status(), e.getMessage()));
                drainAndClose(in);
            } catch (SocketTimeoutException e) {
                log.warn("link from {}: nothing received within the timeout; closing", peer);
                send(out, 0, new LinkMessage.Error(LinkStatus.UNEXPECTED_MESSAGE, "timed out waiting for a frame"));
            } catch (VirtualMachineError e) {
                throw e;
            } catch (RuntimeException | Error e) {
                // A bug serving this connection: it ends, with a reason, and the primary reconnects (its link goes down,
                // it logs, and resyncs); the server and the other connections go on. See the class comment.
                log.error("link from {} ({}): serving the connection failed unexpectedly; closing it", peer, socket.getRemoteSocketAddress(), e);
                send(out, 0, new LinkMessage.Error(LinkStatus.INTERNAL, "internal error on " + config.nodeId() + ": " + e));
                drainAndClose(in);
            }
        } catch (EOFException e) {
            log.info("link from {} closed by the peer", peer);
        } catch (SSLException e) {
            log.warn("link from {} ({}): TLS failed: {}", peer, socket.getRemoteSocketAddress(), e.getMessage());
        } catch (IOException e) {
            log.info("link from {} ended: {}", peer, e.getMessage());
        } finally {
            if (sets != null) {
                sets.abort();
            }
            onClosed.accept(this);
        }
    }

    /**
     * After an ERROR: stop sending, then discard what the peer still sends (bounded in time and
     * bytes) so closing does not reset the connection before the peer has read the ERROR.
     */
    private void drainAndClose(InputStream in) throws IOException {
        active.shutdownOutput();
        active.setSoTimeout(1_000);
        byte[] sink = new byte[64 * 1024];
        long budget = 64L << 20;
        try {
            int n;
            while (budget > 0 && (n = in.read(sink)) >= 0) {
                budget -= n;
            }
        } catch (SocketTimeoutException e) {
            // the peer kept the connection open; close it anyway
        }
    }

    /**
     * The next frame, read into this connection's frame buffer: every frame is handled before the
     * next is read, so one buffer serves them all, and the buffer grows to the largest frame seen
     * (mirrored writes and data set extents would otherwise each allocate an array, most of them too
     * large for the young generation).
     */
    private LinkFrame readFrame(InputStream in) throws IOException, LinkProtocolException {
        frameBuffer.clear();
        LinkFrame frame = LinkFrame.read(in, frameBuffer);
        int frameBytes = frame.payload().remaining() + LinkFrame.HEADER_BYTES + LinkFrame.TRAILER_BYTES;
        if (frameBytes > frameBuffer.capacity()) {
            frameBuffer = ByteBuffer.allocate(frameBytes);
        }
        return frame;
    }

    /**
     * The TLS session over the accepted socket, after its handshake; null when the connection was
     * refused: a plaintext link client (it gets a plaintext ERROR that says TLS is required), or a
     * TLS handshake that failed (a certificate this side does not trust, or one the peer refused).
     */
    private SSLSocket secure() throws IOException {
        byte[] first = socket.getInputStream().readNBytes(4);
        if (first.length == 4 && ByteBuffer.wrap(first).getInt() == LinkFrame.MAGIC) {
            log.warn("link from {}: a plaintext link client on this TLS port; refused", socket.getRemoteSocketAddress());
            active = socket;
            send(socket.getOutputStream(), 0, new LinkMessage.Error(LinkStatus.NOT_AUTHENTICATED,
                    "this link port requires TLS; configure link.tls.* on the connecting side"));
            drainAndClose(socket.getInputStream());
            return null;
        }
        if (first.length < 4) {
            return null;
        }
        try {
            return config.tls().server(socket, new ByteArrayInputStream(first));
        } catch (SSLException e) {
            log.warn("link from {}: TLS handshake failed: {}; closing", socket.getRemoteSocketAddress(), e.getMessage());
            return null;
        }
    }

    /** True until this connection finished its handshake (TLS, authentication and HELLO). */
    boolean inHandshake() {
        return !handshakeDone;
    }

    /** Called by the server's watchdog at the handshake deadline: a connection still in its handshake is closed. */
    void handshakeDeadlinePassed() {
        if (!handshakeDone) {
            log.warn("link from {}: handshake not done within {} of the accept; closing", socket.getRemoteSocketAddress(),
                    config.handshakeTimeout());
            close();
        }
    }

    /** The peer's node id once it authenticated, "?" before. */
    String peer() {
        return peer;
    }

    void close() {
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("closing link connection", e);
        }
    }

    private void authenticate(InputStream in, OutputStream out) throws IOException, LinkProtocolException {
        AuthChallenge challenge = expect(in, AuthChallenge.class, LinkStatus.NOT_AUTHENTICATED, LinkFrame.PRE_AUTH_MAX_PAYLOAD);
        if (challenge.nonce().length != LinkAuth.NONCE_BYTES) {
            throw new LinkProtocolException(LinkStatus.AUTH_FAILED, "challenge nonce must be " + LinkAuth.NONCE_BYTES + " bytes");
        }
        peer = challenge.nodeId();
        byte[] nonce = LinkAuth.newNonce();
        send(out, 0, new AuthChallenge(config.nodeId(), nonce));
        AuthResponse proof = expect(in, AuthResponse.class, LinkStatus.NOT_AUTHENTICATED, LinkFrame.PRE_AUTH_MAX_PAYLOAD);
        if (!LinkAuth.verify(config.secret(), nonce, peer, config.nodeId(), proof.mac())) {
            throw new LinkProtocolException(LinkStatus.AUTH_FAILED, "authentication failed: the peer does not hold the shared secret");
        }
        if (active instanceof SSLSocket tls) {
            config.tls().checkPeerNodeId(tls, peer);
        }
        send(out, 0, new AuthResponse(LinkAuth.prove(config.secret(), challenge.nonce(), config.nodeId(), peer)));
    }

    private void hello(InputStream in, OutputStream out) throws IOException, LinkProtocolException {
        Hello hello = expect(in, Hello.class, LinkStatus.UNEXPECTED_MESSAGE, LinkFrame.MAX_PAYLOAD);
        if (hello.protocolVersion() != LinkFrame.VERSION) {
            throw new LinkProtocolException(LinkStatus.UNSUPPORTED_VERSION, "peer speaks protocol version "
                    + hello.protocolVersion() + ", this side " + LinkFrame.VERSION);
        }
        List<VolumeInfo> mine = new ArrayList<>();
        List<AttachResult> results = new ArrayList<>();
        for (VolumeInfo theirs : hello.volumes()) {
            Optional<LinkVolumes.Entry> local = volumes.find(theirs.id());
            local.ifPresent(e -> mine.add(new VolumeInfo(theirs.id(), e.volume().size(), e.volume().geometry().regionSize(),
                    e.role(), e.generations().entries())));
            AttachResult r = attach(theirs, local);
            results.add(r);
            if (r.ok()) {
                attached.add(theirs.id());
            } else if (theirs.role() == Role.PRIMARY) {
                log.warn("link from {}: volume '{}' not attached: {}", peer, theirs.id(), r.message());
            }
        }
        send(out, 0, new Hello(config.nodeId(), LinkFrame.VERSION, mine));
        send(out, 0, new Attached(results));
        log.info("link from {} authenticated; attached {}", peer, attached);
    }

    /**
     * Attaches a volume the peer offers when the peer is PRIMARY for it, this side SECONDARY, the
     * geometries match and the generation histories allow the peer to be the sync source. A peer
     * that offers no history (a replayer or a tool) is not a facility and is not compared. Every
     * facility's description is reported to {@link LinkVolumes#peerDescribed}, attached or not.
     */
    private AttachResult attach(VolumeInfo theirs, Optional<LinkVolumes.Entry> local) {
        String id = theirs.id();
        if (local.isEmpty()) {
            return new AttachResult(id, LinkStatus.UNKNOWN_VOLUME, "no such volume here");
        }
        LinkVolumes.Entry e = local.get();
        Volume v = e.volume();
        if (v.size() != theirs.size() || v.geometry().regionSize() != theirs.regionSize()) {
            return new AttachResult(id, LinkStatus.GEOMETRY_MISMATCH, "size/region size here " + v.size() + "/"
                    + v.geometry().regionSize() + ", peer " + theirs.size() + "/" + theirs.regionSize());
        }
        if (!theirs.history().isEmpty()) {
            GenerationHistory peerHistory = new GenerationHistory(theirs.history(), theirs.history().get(0).generationId(), true);
            SyncDecision decision = SyncDecision.decide(e.generations(), peerHistory);
            volumes.peerDescribed(peer, theirs, decision);
            switch (decision) {
                case SPLIT_BRAIN -> {
                    return new AttachResult(id, LinkStatus.SPLIT_BRAIN, "split brain: both sides took writes since generation "
                            + String.format("%016x", e.generations().newestCommonWith(peerHistory)) + "; resolve with blockrep resolve");
                }
                case UNRELATED -> {
                    return new AttachResult(id, LinkStatus.UNRELATED, "the copies share no generation (unrelated volumes); "
                            + "a full copy needs blockrep replay " + id + " --full");
                }
                case LOCAL_NEWER -> {
                    return new AttachResult(id, LinkStatus.NEWER_HERE, config.nodeId() + " holds newer data (generation "
                            + e.generations().current().idText() + ")");
                }
                default -> {
                    // SAME or PEER_NEWER: the peer may be the sync source
                }
            }
        }
        if (theirs.role() != Role.PRIMARY) {
            return new AttachResult(id, LinkStatus.ROLE_CONFLICT, "the peer does not claim PRIMARY for it");
        }
        if (e.role() != Role.SECONDARY) {
            return new AttachResult(id, LinkStatus.ROLE_CONFLICT, "this side is " + e.role() + " for it");
        }
        return new AttachResult(id, LinkStatus.OK, "");
    }

    private Ack generation(LinkMessage.GenerationUpdate g) throws LinkProtocolException {
        writable(g.volume());
        try {
            volumes.generationUpdate(g.volume(), g.inSync(), g.history());
            return Ack.OK;
        } catch (RuntimeException e) {
            log.error("recording generation of '{}' failed", g.volume(), e);
            return new Ack(LinkStatus.IO_ERROR, "cannot record the generation: " + e.getMessage());
        }
    }

    /** Handles one frame after the handshake; false when the connection should end quietly. */
    private boolean serve(LinkFrame frame, InputStream in, OutputStream out) throws IOException, LinkProtocolException {
        LinkMessage m = LinkMessage.decode(frame);
        long id = frame.requestId();
        if (m instanceof LinkMessage.Write w) {
            Volume v = writable(w.volume()).volume();
            answer(out, id, apply(v, w));
        } else if (m instanceof LinkMessage.Flush f) {
            Volume v = writable(f.volume()).volume();
            answer(out, id, flush(v));
        } else if (m instanceof LinkMessage.DataSetBegin b) {
            answer(out, id, sets.begin(b, writable(b.volume())));
        } else if (m instanceof LinkMessage.DataSetExtent x) {
            Ack ack = sets.extent(x, writable(sets.volumeOf(x.setId())).volume());
            // While the sender streams a set's extents, their OKs go out together with a later answer
            // instead of costing a send each; once nothing more is waiting to be read, they go at once.
            ack.writeFrame(out, id);
            if (ack.status() != LinkStatus.OK || in.available() == 0) {
                out.flush();
            }
            storeChecked(ack.status(), ack.message());
        } else if (m instanceof LinkMessage.DataSetCommit c) {
            LinkMessage.DataSetAck done = sets.commit(c, writable(sets.volumeOf(c.setId())).volume());
            send(out, id, done);
            storeChecked(done.status(), done.message());
        } else if (m instanceof LinkMessage.HashRequest h) {
            Optional<LinkVolumes.Entry> e = volumes.find(h.volume());
            send(out, id, e.isEmpty() ? new Ack(LinkStatus.UNKNOWN_VOLUME, "no volume '" + h.volume() + "' here")
                    : hash(e.get().volume(), h));
        } else if (m instanceof LinkMessage.ReadRequest r) {
            read(r).writeFrame(out, id);
            out.flush();
        } else if (m instanceof LinkMessage.GenerationUpdate g) {
            send(out, id, generation(g));
        } else if (m instanceof LinkMessage.Ping) {
            send(out, id, new LinkMessage.Pong());
        } else if (m instanceof LinkMessage.Bye bye) {
            log.info("link from {}: BYE ({})", peer, bye.reason());
            return false;
        } else if (m instanceof LinkMessage.Error err) {
            log.warn("link from {}: peer reported {}: {}", peer, err.status(), err.message());
            return false;
        } else {
            throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, frame.type() + " is not valid after the handshake");
        }
        return true;
    }

    /** Sends {@code ack}, then ends the connection if it reports a failure of this side's storage. */
    private static void answer(OutputStream out, long id, Ack ack) throws IOException, LinkProtocolException {
        send(out, id, ack);
        storeChecked(ack.status(), ack.message());
    }

    /**
     * After the answer to a request went out: a storage failure ends the connection (see the class
     * comment), so the sender's link goes down and nothing more of this connection is applied.
     */
    private static void storeChecked(LinkStatus status, String message) throws LinkProtocolException {
        if (status == LinkStatus.IO_ERROR) {
            throw new LinkProtocolException(LinkStatus.IO_ERROR, "this side's storage failed (" + message
                    + "); ending the connection so the primary logs and resyncs");
        }
    }

    /** The entry of an attached volume this side is still SECONDARY for; anything else ends the connection. */
    private LinkVolumes.Entry writable(String volume) throws LinkProtocolException {
        LinkVolumes.Entry e = attachedEntry(volume);
        if (e.role() != Role.SECONDARY) {
            throw new LinkProtocolException(LinkStatus.ROLE_CONFLICT, "this side is " + e.role() + " for '" + volume
                    + "' and refuses replicated writes");
        }
        return e;
    }

    private LinkVolumes.Entry attachedEntry(String volume) throws LinkProtocolException {
        if (!attached.contains(volume)) {
            throw new LinkProtocolException(LinkStatus.NOT_ATTACHED, "volume '" + volume + "' is not attached on this connection");
        }
        return volumes.find(volume).orElseThrow(() ->
                new LinkProtocolException(LinkStatus.UNKNOWN_VOLUME, "volume '" + volume + "' is gone"));
    }

    private static LinkMessage hash(Volume v, LinkMessage.HashRequest h) {
        if (!v.geometry().contains(h.offset(), h.length())) {
            return new Ack(LinkStatus.OUT_OF_RANGE, "range [" + h.offset() + ", +" + h.length()
                    + ") is outside volume '" + v.id() + "' (size " + v.size() + ")");
        }
        try {
            return new LinkMessage.HashReply(BlockHashes.of(v, h.offset(), h.length(), h.blockSize()));
        } catch (IOException e) {
            log.error("hashing '{}' [{}, +{}) failed", v.id(), h.offset(), h.length(), e);
            return new Ack(LinkStatus.IO_ERROR, "read failed: " + e.getMessage());
        }
    }

    /**
     * Answers a READ for any volume this facility has, in either role, without attaching it: the
     * replayer reads its source this way. All the bytes or an error status, never a partial read.
     * The reply's data is a view of this connection's read buffer: valid until the next read.
     */
    private LinkMessage.ReadReply read(LinkMessage.ReadRequest r) {
        Optional<LinkVolumes.Entry> entry = volumes.find(r.volume());
        if (entry.isEmpty()) {
            log.warn("link from {}: read of unknown volume '{}' refused", peer, r.volume());
            return LinkMessage.ReadReply.refused(LinkStatus.UNKNOWN_VOLUME);
        }
        Volume v = entry.get().volume();
        if (!v.geometry().contains(r.offset(), r.length())) {
            log.warn("link from {}: read of '{}' [{}, +{}) is outside the volume (size {}); refused", peer, r.volume(), r.offset(),
                    r.length(), v.size());
            return LinkMessage.ReadReply.refused(LinkStatus.OUT_OF_RANGE);
        }
        if (readBuffer.capacity() < r.length()) {
            readBuffer = ByteBuffer.allocate(r.length());
        }
        ByteBuffer data = readBuffer.clear().limit(r.length());
        try {
            v.read(r.offset(), data);
        } catch (IOException | RuntimeException e) {
            log.error("reading '{}' [{}, +{}) for {} failed", v.id(), r.offset(), r.length(), peer, e);
            return LinkMessage.ReadReply.refused(LinkStatus.IO_ERROR);
        }
        data.flip();
        if (r.zerosOk() && BlockHashes.isZero(data)) {
            // A hole (or zeros written): its length instead of its bytes, the check a vectorised compare.
            return LinkMessage.ReadReply.zeros(LinkStatus.OK, r.length());
        }
        return new LinkMessage.ReadReply(LinkStatus.OK, data);
    }

    private static Ack apply(Volume v, LinkMessage.Write w) {
        ByteBuffer data = w.data();
        if (!v.geometry().contains(w.offset(), data.remaining())) {
            return new Ack(LinkStatus.OUT_OF_RANGE, "range [" + w.offset() + ", +" + data.remaining()
                    + ") is outside volume '" + v.id() + "' (size " + v.size() + ")");
        }
        try {
            v.write(w.offset(), data);
            if (w.fua()) {
                v.flush();
            }
            return Ack.OK;
        } catch (IOException | RuntimeException e) {
            log.error("applying a replicated write to '{}' at {} failed", v.id(), w.offset(), e);
            return new Ack(LinkStatus.IO_ERROR, "write failed: " + e.getMessage());
        }
    }

    private static Ack flush(Volume v) {
        try {
            v.flush();
            return Ack.OK;
        } catch (IOException e) {
            log.error("flushing '{}' failed", v.id(), e);
            return new Ack(LinkStatus.IO_ERROR, "flush failed: " + e.getMessage());
        }
    }

    private <T extends LinkMessage> T expect(InputStream in, Class<T> type, LinkStatus otherwise, int maxPayload)
            throws IOException, LinkProtocolException {
        LinkMessage m = LinkMessage.decode(LinkFrame.read(in, maxPayload));
        if (type.isInstance(m)) {
            return type.cast(m);
        }
        if (m instanceof LinkMessage.Error err) {
            throw new EOFException("peer reported " + err.status() + ": " + err.message());
        }
        throw new LinkProtocolException(otherwise, m.type() + " received while waiting for "
                + type.getSimpleName() + (otherwise == LinkStatus.NOT_AUTHENTICATED ? " (not authenticated)" : ""));
    }

    private static void send(OutputStream out, long requestId, LinkMessage m) throws IOException {
        m.writeFrame(out, requestId);
        out.flush();
    }
}
