package io.blockrep.replayer.verify;

import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.Node;
import java.util.List;

/**
 * The two link connections of one verify: to the primary (the source) and to its peer (the replica),
 * each answering {@code HASH} requests for its own copy. Opened per verify and closed after it; not
 * thread-safe (one compare uses it at a time).
 */
public final class VerifyLinks implements AutoCloseable {
    private final LinkClient source;
    private final LinkClient replica;

    private VerifyLinks(LinkClient source, LinkClient replica) {
        this.source = source;
        this.replica = replica;
    }

    /** Connects to {@code primary} and {@code peer} as the replayer {@code config.id()} (the replica is told the volume's geometry). */
    public static VerifyLinks open(ReplayerConfig config, Node primary, Node peer, String volume, RegionGeometry geometry) {
        SharedSecret secret = SharedSecret.of(config.secret());
        LinkTls tls = config.linkTls() == null ? null : LinkTls.of(config.linkTls());
        List<LinkMessage.VolumeInfo> attach = List.of(new LinkMessage.VolumeInfo(volume, geometry.size(), geometry.regionSize(),
                Role.PRIMARY, List.of()));
        LinkClient source = new LinkClient(config.id(), primary.link(), secret, List.of(), config.linkTimeout(), tls);
        try {
            return new VerifyLinks(source, new LinkClient(config.id(), peer.link(), secret, attach, config.linkTimeout(), tls));
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    public VolumeVerifier.Hasher source() {
        return source::hashes;
    }

    public VolumeVerifier.Hasher replica() {
        return replica::hashes;
    }

    @Override
    public void close() {
        try {
            source.close();
        } finally {
            replica.close();
        }
    }
}
