package io.blockrep.common.thread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SupervisedTest {
    @Test
    void aGuardedPeriodicTaskThatThrowsKeepsItsScheduleAndItsOwnerIsTold() {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            AtomicInteger runs = new AtomicInteger();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            Runnable failing = () -> {
                runs.incrementAndGet();
                throw new AssertionError("a bug (injected)");
            };
            executor.scheduleWithFixedDelay(Supervised.guarded("checkpoint", failing, failures::add), 0, 5, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 3);
            assertThat(failures).hasSizeGreaterThanOrEqualTo(2).allMatch(e -> e.getMessage().contains("injected"));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void unguardedThePeriodicTaskIsSilentlyCancelledAfterItsFirstFailure() throws Exception {
        // What Supervised.guarded is for: the executor keeps the exception in a future nobody reads.
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            AtomicInteger runs = new AtomicInteger();
            var f = executor.scheduleWithFixedDelay(() -> {
                runs.incrementAndGet();
                throw new IllegalStateException("a bug (injected)");
            }, 0, 5, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds(10)).until(f::isDone);
            assertThat(runs).hasValue(1);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aVirtualMachineErrorGoesToTheThreadsUncaughtExceptionHandlerNotTheOwner() throws Exception {
        List<Throwable> owner = new CopyOnWriteArrayList<>();
        List<Throwable> backstop = new CopyOnWriteArrayList<>();
        Thread t = new Thread(Supervised.guarded("io", () -> {
            throw new OutOfMemoryError("injected");
        }, owner::add));
        t.setUncaughtExceptionHandler((thread, e) -> backstop.add(e));
        t.start();
        t.join(10_000);
        assertThat(owner).isEmpty();
        assertThat(backstop).singleElement().isInstanceOf(OutOfMemoryError.class);
    }

    @Test
    void anOwnerThatFailsHandlingAFailureEscalates() throws Exception {
        List<Throwable> backstop = new CopyOnWriteArrayList<>();
        Thread t = new Thread(Supervised.guarded("io", () -> {
            throw new IllegalStateException("first (injected)");
        }, e -> {
            throw new IllegalArgumentException("owner broken (injected)");
        }));
        t.setUncaughtExceptionHandler((thread, e) -> backstop.add(e));
        t.start();
        t.join(10_000);
        assertThat(backstop).singleElement().satisfies(e -> {
            assertThat(e).hasMessageContaining("owner broken");
            assertThat(e.getSuppressed()).singleElement().satisfies(s -> assertThat(s).hasMessageContaining("first"));
        });
    }

    @Test
    void theComponentOfAPoolThreadIsItsNameWithoutTheIndex() {
        assertThat(Supervised.component(new Thread(() -> { }, "volume-io-site-a-3"))).isEqualTo("volume-io-site-a");
        assertThat(Supervised.component(new Thread(() -> { }, "link-server-accept"))).isEqualTo("link-server-accept");
    }
}
