package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.service.FacilityClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep promote VOLUME}: a SECONDARY becomes PRIMARY; its export becomes writable. */
@Command(name = "promote", mixinStandardHelpOptions = true,
        description = {"Make this facility PRIMARY for a volume: its NBD export becomes writable. With the peer unreachable, "
                + "writes are logged in this side's own bitmaps and dirty records.",
                "Refused while the peer is connected and PRIMARY for the volume, or while this copy is inconsistent "
                        + "(a resync into it did not finish), unless --force. Exit 0 when promoted, 64 when refused."})
final class PromoteCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id.")
    String volume;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811",
            description = "Control API of the facility to promote (default: ${DEFAULT-VALUE}).")
    String control;

    @Option(names = "--force", description = "Promote even while the peer is PRIMARY and connected, or this copy is inconsistent.")
    boolean force;

    @Override
    public Integer call() {
        JsonNode r = FacilityClient.of(control).promote(volume, force);
        PrintWriter out = spec.commandLine().getOut();
        out.println(r.path("node").asText() + "/" + volume + ": " + r.path("role").asText() + ", " + r.path("mode").asText()
                + " (" + r.path("note").asText() + ")");
        out.flush();
        return 0;
    }
}
