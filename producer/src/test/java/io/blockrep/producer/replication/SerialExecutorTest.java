package io.blockrep.producer.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * Issue #12, deliver 2: a link event task of a volume that threw an Error (not a RuntimeException) left
 * its SerialExecutor marked running with nobody draining it, so no later link event of that volume
 * ever applied (it stayed LOGGING behind a healthy link); the failure was not handed to anyone.
 */
class SerialExecutorTest {
    /** Runs what it is given when told, on the test thread; what a task throws out of the pool is kept. */
    private static final class StepPool implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        final List<Throwable> uncaught = new ArrayList<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void runAll() {
            for (Runnable r = tasks.poll(); r != null; r = tasks.poll()) {
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    uncaught.add(e);
                }
            }
        }
    }

    @Test
    void aTaskThatThrowsAnErrorIsHandedToTheOwnerAndTheTasksAfterItStillRun() {
        StepPool pool = new StepPool();
        List<Throwable> failures = new ArrayList<>();
        List<String> ran = new ArrayList<>();
        SerialExecutor serial = new SerialExecutor(pool, "link events of volume vol", failures::add);
        serial.execute(() -> ran.add("down"));
        serial.execute(() -> {
            throw new AssertionError("a bug (injected)");
        });
        serial.execute(() -> ran.add("restored"));
        pool.runAll();
        serial.execute(() -> ran.add("down again"));
        pool.runAll();

        assertThat(ran).containsExactly("down", "restored", "down again");
        assertThat(failures).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("injected"));
        assertThat(pool.uncaught).isEmpty();
    }

    @Test
    void aRuntimeExceptionGoesToTheOwnerToo() {
        StepPool pool = new StepPool();
        List<Throwable> failures = new ArrayList<>();
        SerialExecutor serial = new SerialExecutor(pool, "v", failures::add);
        serial.execute(() -> {
            throw new IllegalStateException("injected");
        });
        pool.runAll();
        assertThat(failures).hasSize(1);
    }

    @Test
    void aVirtualMachineErrorReachesThePoolThreadAndTheQueuedTasksRunOnANewDrain() {
        StepPool pool = new StepPool();
        List<String> ran = new ArrayList<>();
        SerialExecutor serial = new SerialExecutor(pool, "v", e -> ran.add("owner told"));
        serial.execute(() -> {
            throw new OutOfMemoryError("injected");
        });
        serial.execute(() -> ran.add("next"));
        pool.runAll();
        assertThat(pool.uncaught).singleElement().isInstanceOf(OutOfMemoryError.class);
        assertThat(ran).containsExactly("next");
        serial.execute(() -> ran.add("later"));
        pool.runAll();
        assertThat(ran).containsExactly("next", "later");
    }
}
