package io.blockrep.common.link;

/**
 * A frame or message that breaks the link protocol: bad magic, CRC, version or length, a
 * truncated frame, an unknown type, a payload that does not parse, or a message out of order.
 * The only exception frame decoding throws for bad input. The connection that produced it is
 * answered with an ERROR carrying {@link #status()} and closed.
 */
public class LinkProtocolException extends Exception {
    private final LinkStatus status;

    public LinkProtocolException(LinkStatus status, String message) {
        super(message);
        this.status = status;
    }

    public LinkStatus status() {
        return status;
    }
}
