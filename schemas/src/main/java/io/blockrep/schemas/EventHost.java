package io.blockrep.schemas;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** The host name a process reports in {@link VolumeEvent#getHost()} (schema version 2): looked up once, null when unknown. */
public final class EventHost {
    private static final String LOCAL = lookUp();

    private EventHost() {
    }

    public static String local() {
        return LOCAL;
    }

    /** {@code event} with {@link #local()} as its host unless it names one already. */
    public static VolumeEvent stamped(VolumeEvent event) {
        if (event.getHost() == null && LOCAL != null) {
            event.setHost(LOCAL);
        }
        return event;
    }

    private static String lookUp() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }
}
