package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.service.FacilityClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep promote VOLUME}: a SECONDARY becomes PRIMARY; its export becomes writable. */
@Command(name = "promote", mixinStandardHelpOptions = true,
        description = {"Make this facility PRIMARY for a volume: its NBD export becomes writable. With the peer unreachable, "
                + "writes are logged in this side's own bitmaps and dirty records.",
                "Refused while the peer is connected and PRIMARY for the volume, or while this copy is inconsistent "
                        + "(a resync into it did not finish), unless --force. Exit 0 when promoted, 64 when refused."})
final class PromoteCommand extends RoleCommand {
    @Option(names = "--force", description = "Promote even while the peer is PRIMARY and connected, or this copy is inconsistent.")
    boolean force;

    @Override
    JsonNode change(FacilityClient facility) {
        return facility.promote(volume, force);
    }
}
