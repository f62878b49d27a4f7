package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;

/**
 * Issue #12, deliver 2: a mode timer task (a cutover's or a drain's timeout, a LOGGING retry) that threw
 * was kept by the scheduled executor in a future nobody read: nobody was told, and what the task
 * should have done (release held writes, retry the resync) never happened.
 */
class ModeTimerTest {
    @Test
    void aTimerTaskThatThrowsIsHandedToTheOwner() {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            ModeTimer timer = ModeTimer.of(executor, failures::add);
            timer.schedule(() -> {
                throw new IllegalStateException("cutover timeout failed (injected)");
            }, Duration.ofMillis(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> !failures.isEmpty());
            assertThat(failures).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("injected"));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aCancelledTimerDoesNotRun() throws Exception {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            List<String> ran = new CopyOnWriteArrayList<>();
            ModeTimer timer = ModeTimer.of(executor, e -> { });
            timer.schedule(() -> ran.add("x"), Duration.ofSeconds(60)).cancel();
            timer.schedule(() -> ran.add("y"), Duration.ofMillis(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> ran.contains("y"));
            assertThat(ran).containsExactly("y");
        } finally {
            executor.shutdownNow();
        }
    }
}
