package io.blockrep.common.link;

import io.blockrep.common.link.LinkMessage.AttachResult;
import io.blockrep.common.link.LinkMessage.Attached;
import io.blockrep.common.link.LinkMessage.AuthChallenge;
import io.blockrep.common.link.LinkMessage.AuthResponse;
import io.blockrep.common.link.LinkMessage.Hello;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The connecting side's half of the link handshake (see {@link LinkAuth} for the order), run on an
 * open socket: by the primary's replication link and by the replayer's {@link LinkClient}.
 */
public final class LinkHandshake {
    private LinkHandshake() {
    }

    /**
     * What a handshake established: the peer's HELLO (its own description of each volume, with its
     * generation history) and the peer's attach result for every volume this side offered.
     */
    public record Outcome(Hello peer, Map<String, AttachResult> attached) {
        public Outcome {
            attached = Map.copyOf(attached);
        }

        /** The peer's description of {@code volume}, when the peer has it. */
        public java.util.Optional<VolumeInfo> peerVolume(String volume) {
            return peer.volumes().stream().filter(v -> v.id().equals(volume)).findFirst();
        }

        public boolean isAttached(String volume) {
            AttachResult r = attached.get(volume);
            return r != null && r.ok();
        }
    }

    /** Authenticates both ways, sends HELLO and checks every volume was attached; returns the peer's HELLO. */
    public static Hello run(String nodeId, SharedSecret secret, List<VolumeInfo> volumes, InputStream in, OutputStream out)
            throws IOException, LinkProtocolException {
        Outcome outcome = offer(nodeId, secret, volumes, in, out);
        for (VolumeInfo v : volumes) {
            AttachResult r = outcome.attached().get(v.id());
            if (r == null || !r.ok()) {
                throw fail(out, LinkStatus.NOT_ATTACHED, "peer '" + outcome.peer().nodeId() + "' did not attach volume '" + v.id()
                        + "': " + (r == null ? "not answered" : r.status() + " " + r.message()));
            }
        }
        return outcome.peer();
    }

    /**
     * Authenticates both ways and sends HELLO offering {@code volumes}; returns the peer's answer for
     * each, attached or not. A facility link uses this: one volume the peer refuses (split brain, a
     * role conflict) must not keep the others from replicating.
     */
    public static Outcome offer(String nodeId, SharedSecret secret, List<VolumeInfo> volumes, InputStream in, OutputStream out)
            throws IOException, LinkProtocolException {
        byte[] nonce = LinkAuth.newNonce();
        send(out, new AuthChallenge(nodeId, nonce));
        AuthChallenge theirs = expect(in, AuthChallenge.class, LinkFrame.PRE_AUTH_MAX_PAYLOAD);
        if (theirs.nonce().length != LinkAuth.NONCE_BYTES) {
            throw fail(out, LinkStatus.AUTH_FAILED, "peer challenge nonce must be " + LinkAuth.NONCE_BYTES + " bytes");
        }
        String peer = theirs.nodeId();
        send(out, new AuthResponse(LinkAuth.prove(secret, theirs.nonce(), nodeId, peer)));
        AuthResponse proof = expect(in, AuthResponse.class, LinkFrame.PRE_AUTH_MAX_PAYLOAD);
        if (!LinkAuth.verify(secret, nonce, peer, nodeId, proof.mac())) {
            throw fail(out, LinkStatus.AUTH_FAILED, "authentication failed: peer '" + peer + "' does not hold the shared secret");
        }
        send(out, new Hello(nodeId, LinkFrame.VERSION, volumes));
        Hello hello = expect(in, Hello.class, LinkFrame.MAX_PAYLOAD);
        Attached attached = expect(in, Attached.class, LinkFrame.MAX_PAYLOAD);
        Map<String, AttachResult> byVolume = new HashMap<>();
        attached.results().forEach(r -> byVolume.put(r.volume(), r));
        return new Outcome(hello, byVolume);
    }

    private static LinkProtocolException fail(OutputStream out, LinkStatus status, String message) throws IOException {
        send(out, new LinkMessage.Error(status, message));
        return new LinkProtocolException(status, message);
    }

    /** The next message, which must be a {@code type}; until the peer proved the secret, frames are capped at {@code maxPayload}. */
    private static <T extends LinkMessage> T expect(InputStream in, Class<T> type, int maxPayload)
            throws IOException, LinkProtocolException {
        LinkMessage m = LinkMessage.decode(LinkFrame.read(in, maxPayload));
        if (type.isInstance(m)) {
            return type.cast(m);
        }
        if (m instanceof LinkMessage.Error err) {
            throw new LinkProtocolException(err.status(), "peer refused: " + err.status() + ": " + err.message());
        }
        throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, m.type() + " received while waiting for " + type.getSimpleName());
    }

    static void send(OutputStream out, LinkMessage m) throws IOException {
        out.write(m.toFrame(0).encode());
        out.flush();
    }
}
