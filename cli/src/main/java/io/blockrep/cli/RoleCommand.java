package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.service.FacilityClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What {@code promote} and {@code demote} share: the volume, the facility, {@code --force}, and how the result is printed. */
abstract class RoleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume id.")
    String volume;

    @Option(names = "--control", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10811",
            description = "Control API of the facility (default: ${DEFAULT-VALUE}).")
    String control;

    @CommandLine.Mixin
    ControlTokenOption auth;

    /** Asks the facility for the role change; returns its RoleChange document. */
    abstract JsonNode change(FacilityClient facility);

    @Override
    public Integer call() {
        JsonNode r = change(auth.client(control));
        PrintWriter out = spec.commandLine().getOut();
        out.println(r.path("node").asText() + "/" + volume + ": " + r.path("role").asText() + ", " + r.path("mode").asText()
                + " (" + r.path("note").asText() + ")");
        out.flush();
        return 0;
    }
}
