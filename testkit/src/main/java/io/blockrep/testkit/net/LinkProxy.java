package io.blockrep.testkit.net;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on 127.0.0.1 (free port) in front of a target: the network fault seam for link tests.
 *
 * <ul>
 *   <li>{@link #cut()}: closes every current connection (RST) and refuses new ones (accepted and
 *       reset at once, so the client sees the connection drop before any byte).
 *   <li>{@link #blackhole()}: keeps connections open but drops every byte in both directions; new
 *       connections are accepted and their bytes dropped, never reaching the target.
 *   <li>{@link #halfOpen()}: a half-open connection, as when the far host vanished without a FIN:
 *       the target's side of every current connection is reset (the target sees the connection
 *       go), while the client's side stays open and its bytes are dropped (the client sees
 *       nothing, only silence). New connections are blackholed.
 *   <li>{@link #delay(java.time.Duration)}: adds latency: every chunk read in either direction is
 *       written on no earlier than {@code delay} after it was read (so a round trip gains twice
 *       the delay); bytes keep their order and throughput is not capped (chunks are pipelined).
 *   <li>{@link #restore()}: forwards again. Connections that lived through a blackhole lost bytes,
 *       so their streams are broken; they are closed, and clients must reconnect.
 * </ul>
 *
 * Thread-safe. One acceptor thread and two pump threads per connection, all daemon, all stopped and
 * joined by {@link #close()}.
 */
public final class LinkProxy implements Closeable {
    private enum Mode { FORWARD, CUT, BLACKHOLE }

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean closed;
    private volatile long delayNanos;

    /** Holds every chunk {@code oneWay} before forwarding it, from now on (zero: no added latency). */
    public void delay(java.time.Duration oneWay) {
        delayNanos = oneWay.toNanos();
    }

    public LinkProxy(String targetHost, int targetPort) {
        this.target = new InetSocketAddress(targetHost, targetPort);
        try {
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.acceptor = start("link-proxy-accept-" + port(), this::acceptLoop);
    }

    public String host() {
        return server.getInetAddress().getHostAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections currently open through the proxy (forwarding or blackholed). */
    public int connectionCount() {
        return pairs.size();
    }

    public void cut() {
        mode = Mode.CUT;
        for (Pair p : pairs) {
            p.close();
        }
    }

    public void blackhole() {
        mode = Mode.BLACKHOLE;
        for (Pair p : pairs) {
            p.blackholed = true;
        }
    }

    public void halfOpen() {
        mode = Mode.BLACKHOLE;
        for (Pair p : pairs) {
            p.blackholed = true;
            if (p.upstream != null) {
                reset(p.upstream);
            }
        }
    }

    public void restore() {
        mode = Mode.FORWARD;
        for (Pair p : pairs) {
            if (p.blackholed) {
                p.close();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        for (Pair p : pairs) {
            p.close();
        }
        List<Thread> all;
        synchronized (threads) {
            all = new ArrayList<>(threads);
        }
        for (Thread t : all) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            Mode m = mode;
            if (m == Mode.CUT) {
                reset(client);
                continue;
            }
            Socket upstream = null;
            if (m == Mode.FORWARD) {
                try {
                    upstream = new Socket();
                    upstream.connect(target, 5_000);
                } catch (IOException e) {
                    reset(client);
                    closeQuietly(upstream);
                    continue;
                }
            }
            Pair p = new Pair(client, upstream, m == Mode.BLACKHOLE);
            pairs.add(p);
            if (closed) {
                p.close();
                return;
            }
            start("link-proxy-up-" + client.getPort(), () -> p.pump(client, p.upstream));
            if (upstream != null) {
                start("link-proxy-down-" + client.getPort(), () -> p.pump(p.upstream, client));
            }
        }
    }

    private Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        synchronized (threads) {
            threads.removeIf(x -> !x.isAlive());
            threads.add(t);
        }
        t.start();
        return t;
    }

    private final class Pair {
        final Socket client;
        final Socket upstream;
        volatile boolean blackholed;

        Pair(Socket client, Socket upstream, boolean blackholed) {
            this.client = client;
            this.upstream = upstream;
            this.blackholed = blackholed;
        }

        void pump(Socket from, Socket to) {
            byte[] buf = new byte[64 * 1024];
            java.util.concurrent.LinkedBlockingQueue<Object[]> delayed = new java.util.concurrent.LinkedBlockingQueue<>();
            Thread[] writer = new Thread[1];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to == null ? null : to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (!blackholed && out != null) {
                        long d = delayNanos;
                        if (d == 0 && delayed.isEmpty()) {
                            out.write(buf, 0, n);
                            out.flush();
                        } else {
                            if (writer[0] == null) {
                                writer[0] = start("link-proxy-delay-" + from.getPort(), () -> delayedWrites(delayed, out));
                            }
                            delayed.add(new Object[] {System.nanoTime() + d, java.util.Arrays.copyOf(buf, n)});
                        }
                    }
                }
            } catch (IOException e) {
                // the other pump or cut() closed the sockets
            }
            if (writer[0] != null) {
                delayed.add(new Object[] {0L, null});
            }
            if (!blackholed || from == client) {
                close();
            }
        }

        /** Writes the delayed chunks in order, each once its time has come; a null chunk ends it. */
        private void delayedWrites(java.util.concurrent.LinkedBlockingQueue<Object[]> delayed, OutputStream out) {
            try {
                while (true) {
                    Object[] chunk = delayed.take();
                    if (chunk[1] == null) {
                        return;
                    }
                    long wait;
                    while ((wait = (Long) chunk[0] - System.nanoTime()) > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    if (!blackholed) {
                        out.write((byte[]) chunk[1]);
                        out.flush();
                    }
                }
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        void close() {
            pairs.remove(this);
            reset(client);
            if (upstream != null) {
                reset(upstream);
            }
        }
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException e) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
