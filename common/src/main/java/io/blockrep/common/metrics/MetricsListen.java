package io.blockrep.common.metrics;

import io.blockrep.common.config.ConfigKey;
import io.blockrep.common.config.HostPort;

/**
 * The value of {@code producer.metrics.listen} / {@code replayer.metrics.listen}: {@code HOST:PORT}, or a bare
 * {@code PORT} on 127.0.0.1. Port 0 picks a free one.
 */
public final class MetricsListen {
    public static final String DEFAULT_HOST = "127.0.0.1";

    /** For the config tables: the value parses. */
    public static final ConfigKey.Validator VALIDATOR = new ConfigKey.Validator() {
        @Override
        public String check(Object value) {
            try {
                parse(value.toString());
                return null;
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }

        @Override
        public String describe() {
            return "HOST:PORT or PORT";
        }
    };

    private MetricsListen() {
    }

    /** {@code 9404} is 127.0.0.1:9404; {@code 0.0.0.0:9404} listens on every interface. */
    public static HostPort parse(String text) {
        String t = text.trim();
        if (t.matches("[0-9]{1,5}")) {
            int port = Integer.parseInt(t);
            if (port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 0..65535");
            }
            return new HostPort(DEFAULT_HOST, port);
        }
        try {
            return HostPort.parse(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORT or PORT (examples: 9404, 0.0.0.0:9404)");
        }
    }
}
