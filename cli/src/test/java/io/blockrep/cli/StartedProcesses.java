package io.blockrep.cli;

import io.blockrep.testkit.ExternalCommand;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The processes a test started, killed ones included, each closed after the test (whatever its
 * outcome): {@code @RegisterExtension final StartedProcesses processes = new StartedProcesses();}.
 * One test thread adds to it.
 */
public final class StartedProcesses implements AfterEachCallback {
    private final List<ExternalCommand.Running> started = new ArrayList<>();

    /** Keeps {@code p} to close after the test; returns it. */
    public ExternalCommand.Running add(ExternalCommand.Running p) {
        started.add(p);
        return p;
    }

    /** The {@code i}-th process started (from 0). */
    public ExternalCommand.Running get(int i) {
        return started.get(i);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        started.forEach(ExternalCommand.Running::close);
    }
}
