package io.blockrep.kafka;

import io.blockrep.common.RetriableException;

/** A listener port of the embedded broker is already bound by another process. Exit code 75. */
public final class BrokerPortInUseException extends RetriableException {
    private final String host;
    private final int port;

    BrokerPortInUseException(String listener, String host, int port, Throwable cause) {
        super(listener + " port " + host + ":" + port + " is already in use; stop whatever holds it or choose another port",
                cause);
        this.host = host;
        this.port = port;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }
}
