package io.blockrep.producer.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executor;

/**
 * An executor that runs nothing until the test says so: {@link #runOne} picks any queued task, as a
 * pool of threads might run them in any order. Single-threaded use.
 */
final class StepExecutor implements Executor {
    private final List<Runnable> queue = new ArrayList<>();

    @Override
    public void execute(Runnable task) {
        queue.add(task);
    }

    int queued() {
        return queue.size();
    }

    void runOne(Random random) {
        queue.remove(random.nextInt(queue.size())).run();
    }

    void runAll() {
        while (!queue.isEmpty()) {
            queue.remove(0).run();
        }
    }
}
