package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.service.FacilityClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep demote VOLUME}: a PRIMARY becomes SECONDARY after a flush; its export becomes read-only. */
@Command(name = "demote", mixinStandardHelpOptions = true,
        description = {"Make this facility SECONDARY for a volume: writes are held, flushed on both sides, and the NBD export "
                + "becomes read-only.",
                "Refused while NBD clients hold the export writable, unless --force (their later writes fail with EPERM). "
                        + "Exit 0 when demoted, 64 when refused."})
final class DemoteCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id.")
    String volume;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811",
            description = "Control API of the facility to demote (default: ${DEFAULT-VALUE}).")
    String control;

    @Option(names = "--force", description = "Demote even while NBD clients hold the export writable.")
    boolean force;

    @Override
    public Integer call() {
        JsonNode r = FacilityClient.of(control).demote(volume, force);
        PrintWriter out = spec.commandLine().getOut();
        out.println(r.path("node").asText() + "/" + volume + ": " + r.path("role").asText() + ", " + r.path("mode").asText()
                + " (" + r.path("note").asText() + ")");
        out.flush();
        return 0;
    }
}
