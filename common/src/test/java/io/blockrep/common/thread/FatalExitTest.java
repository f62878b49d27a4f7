package io.blockrep.common.thread;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class FatalExitTest {
    @Test
    void aThreadThatDiesOnAnUncaughtExceptionExitsTheProcessNonZeroOnce() throws Exception {
        List<Integer> exits = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler handler = FatalExit.handler("producer", exits::add);
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                throw new IllegalStateException("a bug (injected)");
            }, "volume-io-site-a-" + i);
            t.setUncaughtExceptionHandler(handler);
            t.start();
            t.join(10_000);
        }
        assertThat(exits).containsExactly(FatalExit.EXIT_CODE);
        assertThat(FatalExit.EXIT_CODE).isNotZero();
    }
}
