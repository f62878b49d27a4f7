package io.blockrep.producer.link;

import io.blockrep.common.RetriableException;

/**
 * A write or flush did not reach the peer because the link is (or went) down. The caller must
 * treat the data as not replicated, i.e. mark its regions dirty before releasing it.
 */
public class LinkDownException extends RetriableException {
    public LinkDownException(String message) {
        super(message);
    }
}
