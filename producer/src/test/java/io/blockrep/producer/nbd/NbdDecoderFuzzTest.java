package io.blockrep.producer.nbd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Fuzzes the NBD server's decoders end to end: the fuzzed bytes are what a client sends on a real
 * loopback connection (client flags, options, then transmission requests), read by {@link NbdConnection}
 * through {@link NbdHandshake} and {@link NbdWire}. Contract: bad input makes the server refuse the
 * option or request, or close the connection; the connection never fails with an unexpected exception
 * (it logs those at ERROR with the cause, which this test captures), never throws an error out of
 * {@code run}, and always ends once the client's bytes are exhausted. Seeds:
 * {@code NbdDecoderFuzzTestInputs/negotiateAndServe/}. CI fuzzes it with {@code -Pfuzz}.
 */
class NbdDecoderFuzzTest {
    private static final int SIZE = 64 * 1024;
    private static ServerSocketChannel listener;
    private static ExecutorService serverThread;
    private static NbdExportRegistry registry;
    private static final List<ILoggingEvent> failures = new CopyOnWriteArrayList<>();
    private static final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
                failures.add(e);
            }
        }
    };

    @BeforeAll
    static void listen() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        serverThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "nbd-conn-fuzz");
            t.setDaemon(true);
            return t;
        });
        registry = NbdExportRegistry.of(new MemoryExport("disk", SIZE, false), new MemoryExport("ro", SIZE, true));
        Logger nbd = (Logger) LoggerFactory.getLogger("io.blockrep.producer.nbd");
        nbd.setLevel(Level.ERROR);
        capture.start();
        nbd.addAppender(capture);
    }

    @AfterAll
    static void close() throws IOException {
        ((Logger) LoggerFactory.getLogger("io.blockrep.producer.nbd")).detachAppender(capture);
        serverThread.shutdownNow();
        listener.close();
    }

    @FuzzTest(maxDuration = "20s")
    void negotiateAndServe(byte[] input) throws Exception {
        failures.clear();
        try (SocketChannel client = SocketChannel.open(listener.getLocalAddress())) {
            SocketChannel accepted = listener.accept();
            Future<?> served = serverThread.submit(
                    new NbdConnection(accepted, registry, "fuzz", NbdServer.Limits.DEFAULT, null));
            client.write(ByteBuffer.wrap(input));
            client.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
            while (client.read(sink.clear()) >= 0) {
                // drain the replies until the server closes
            }
            try {
                served.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new AssertionError("the connection failed with " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new AssertionError("the connection did not end after the client's input ran out");
            }
        }
        if (!failures.isEmpty()) {
            ILoggingEvent e = failures.get(0);
            throw new AssertionError("the connection logged an unexpected failure: " + e.getFormattedMessage() + " "
                    + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getClassName() + ": "
                    + e.getThrowableProxy().getMessage()));
        }
    }
}
