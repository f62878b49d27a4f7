package io.blockrep.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep link cut|restore}: administratively drop or restore a facility's replication link. */
@Command(name = "link", mixinStandardHelpOptions = true,
        description = {"Cut or restore a primary facility's replication link (writes go on; a cut link puts volumes in LOGGING).",
                "A cut is held in the facility's memory: it lasts until restore or until the facility restarts."})
final class LinkCommand implements Callable<Integer> {
    enum Action { cut, restore }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "cut or restore")
    Action action;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811",
            description = "Control API address of the primary facility (default: ${DEFAULT-VALUE}).")
    String control;

    @CommandLine.Mixin
    ControlTokenOption auth;

    @Override
    public Integer call() {
        auth.client(control).post("/v1/link/" + action.name());
        spec.commandLine().getOut().println(action == Action.cut
                ? "link cut; writes continue in LOGGING mode (see: blockrep status)"
                : "link restoring; it counts as restored after the damping interval");
        spec.commandLine().getOut().flush();
        return 0;
    }
}
