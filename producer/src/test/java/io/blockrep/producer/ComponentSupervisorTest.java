package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.schemas.EventType;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ComponentSupervisorTest {
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger restarts = new AtomicInteger();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private ComponentSupervisor supervisor(Runnable restart) {
        ComponentSupervisor.Events sink = (volume, type, mode, detail) -> {
            assertThat(type).isEqualTo(EventType.OTHER);
            events.add(volume + " " + detail.get("kind") + " " + detail.get("component") + " " + detail.get("attempt"));
        };
        return new ComponentSupervisor(Clock.systemUTC(), scheduler, () -> List.of("a", "b"), () -> sink, restart);
    }

    @Test
    void aFailedReplicationComponentIsPublishedForEveryVolumeAndTheReplicationRestartsAfterTheBackoff() {
        ComponentSupervisor s = supervisor(restarts::incrementAndGet);
        s.failed("link events of volume a", new IllegalStateException("injected"));
        assertThat(events).containsExactly("a COMPONENT_RESTARTED link events of volume a 1", "b COMPONENT_RESTARTED link events of volume a 1");
        await().atMost(Duration.ofSeconds(10)).until(() -> restarts.get() == 1);
    }

    @Test
    void failuresWhileARestartIsPendingShareItAndCountAsFurtherAttempts() {
        ComponentSupervisor s = supervisor(restarts::incrementAndGet);
        s.failed("mode timer of volume a", new IllegalStateException("injected"));
        s.failed("volume-io-site-a", new IllegalStateException("injected"));
        assertThat(events).endsWith("b COMPONENT_RESTARTED volume-io-site-a 2");
        await().atMost(Duration.ofSeconds(10)).until(() -> restarts.get() == 1);
        s.failed("volume-io-site-a", new IllegalStateException("injected"));
        await().atMost(Duration.ofSeconds(10)).until(() -> restarts.get() == 2);
    }

    @Test
    void aVirtualMachineErrorGoesToTheProcessBackstopNotToARestart() throws Exception {
        ComponentSupervisor s = supervisor(restarts::incrementAndGet);
        List<Throwable> backstop = new CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> s.failed("volume-io-site-a", new OutOfMemoryError("injected")));
        t.setUncaughtExceptionHandler((thread, e) -> backstop.add(e));
        t.start();
        t.join(10_000);
        assertThat(backstop).singleElement().isInstanceOf(OutOfMemoryError.class);
        assertThat(events).isEmpty();
    }

    @Test
    void aRestartedPublisherAndARetriedCheckpointArePublishedWithoutRestartingReplication() {
        ComponentSupervisor s = supervisor(restarts::incrementAndGet);
        s.restarted("dirty publisher", new IllegalStateException("injected"), 3);
        s.retried("activity checkpointer", new IllegalStateException("injected"));
        assertThat(events).contains("a COMPONENT_RESTARTED dirty publisher 3", "b COMPONENT_RESTARTED activity checkpointer 0");
        assertThat(restarts).hasValue(0);
    }

    @Test
    void withoutAPeerTheFailureIsLoggedAndPublishedOnly() {
        ComponentSupervisor s = supervisor(null);
        s.failed("volume-io-site-a", new IllegalStateException("injected"));
        assertThat(events).hasSize(2);
    }
}
