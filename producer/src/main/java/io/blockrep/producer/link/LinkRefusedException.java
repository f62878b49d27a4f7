package io.blockrep.producer.link;

import io.blockrep.common.FatalException;
import io.blockrep.common.link.LinkStatus;

/** The peer received a request and refused it with a negative ACK (out of range, I/O error there). */
public class LinkRefusedException extends FatalException {
    private final LinkStatus status;

    public LinkRefusedException(LinkStatus status, String message) {
        super("peer refused the request (" + status + "): " + message);
        this.status = status;
    }

    public LinkStatus status() {
        return status;
    }
}
