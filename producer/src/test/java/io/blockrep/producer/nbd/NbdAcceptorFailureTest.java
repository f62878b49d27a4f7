package io.blockrep.producer.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue #12, deliver 2: admitting an NBD connection that fails with an Error (its thread or its direct
 * buffers cannot be allocated under memory pressure) killed the accept thread, and the facility lived
 * on with nobody taking NBD connections. Now that connection is closed and the acceptor goes on.
 */
class NbdAcceptorFailureTest {
    @Test
    void anErrorAdmittingOneConnectionDoesNotStopTheAcceptor() throws Exception {
        AtomicInteger made = new AtomicInteger();
        ThreadFactory failingFirst = r -> {
            if (made.getAndIncrement() == 0) {
                throw new OutOfMemoryError("unable to create native thread (injected)");
            }
            return new Thread(r);
        };
        NbdServer server = new NbdServer(NbdServer.Config.of(NbdExportRegistry.of(new MemoryExport("vol", 1 << 20, false))), failingFirst);
        try (server) {
            server.start();
            try (RawNbdClient first = new RawNbdClient(server.port())) {
                assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                        assertThatThrownBy(() -> first.greet(NbdWire.KNOWN_CLIENT_FLAGS)).as("the failed connection is closed")
                                .isInstanceOf(IOException.class));
            }
            try (RawNbdClient second = new RawNbdClient(server.port())) {
                long size = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                    second.greet(NbdWire.KNOWN_CLIENT_FLAGS);
                    return second.go("vol");
                }, "the next client is served: the acceptor survived");
                assertThat(size).isEqualTo(1 << 20);
            }
        }
    }
}
