package io.blockrep.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback TCP ports for programs that cannot bind port 0 and report back. A port is free
 * when returned; another process may take it before it is used, so prefer port 0 where possible.
 *
 * <p>Two precautions make a clash unlikely: a port is never handed out twice by one JVM, and ports
 * are drawn below the kernel's ephemeral range ({@code ip_local_port_range}), so an outgoing
 * connection (a Kafka client's, say) is never given one as its local port between the pick and
 * the bind. Thread-safe.
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
    private static final int LOW = 15_000;

    private FreePorts() {
    }

    public static int find() {
        int high = ephemeralLow() - 1;
        for (int attempt = 0; attempt < 200 && high > LOW; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, high + 1);
            if (!HANDED_OUT.contains(port) && bindable(port) && HANDED_OUT.add(port)) {
                return port;
            }
        }
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free port on 127.0.0.1", e);
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1 that was not handed out already");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The lowest port the kernel hands to outgoing connections (32768 when it cannot be read). */
    private static int ephemeralLow() {
        try {
            // procfs files report no size: read a line, not the "whole file".
            try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
                String range = r.readLine();
                return Integer.parseInt(range.trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
