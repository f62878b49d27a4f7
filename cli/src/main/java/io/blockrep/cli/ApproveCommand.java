package io.blockrep.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep approve VOLUME}: let a volume waiting in AWAITING_APPROVAL resynchronise. */
@Command(name = "approve", mixinStandardHelpOptions = true,
        description = "Approve the resync of a volume in AWAITING_APPROVAL (producer.autosync=false).")
final class ApproveCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id.")
    String volume;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811",
            description = "Control API of the primary facility (default: ${DEFAULT-VALUE}).")
    String control;

    @CommandLine.Mixin
    ControlTokenOption auth;

    @Override
    public Integer call() {
        auth.client(control).approve(volume);
        spec.commandLine().getOut().println("approved: " + volume + " is RESYNCING; the replayer copies its dirty regions"
                + " (watch with blockrep status, or run blockrep replay " + volume + ")");
        spec.commandLine().getOut().flush();
        return 0;
    }
}
