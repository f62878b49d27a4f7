package io.blockrep.producer.replication;

import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage.AttachResult;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkStatus;

/**
 * One volume's part of a link handshake: whether the peer attached it, why not, and how the peer
 * describes its own copy ({@code info}, null when the peer has no such volume).
 */
public record PeerView(String peerNode, boolean attached, LinkStatus attachStatus, String attachMessage, VolumeInfo info) {

    public static PeerView of(LinkHandshake.Outcome outcome, String volume) {
        AttachResult r = outcome.attached().get(volume);
        return new PeerView(outcome.peer().nodeId(), r != null && r.ok(), r == null ? LinkStatus.NOT_ATTACHED : r.status(),
                r == null ? "not answered" : r.message(), outcome.peerVolume(volume).orElse(null));
    }
}
