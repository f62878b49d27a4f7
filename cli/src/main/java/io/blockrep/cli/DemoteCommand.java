package io.blockrep.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.replayer.service.FacilityClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep demote VOLUME}: a PRIMARY becomes SECONDARY after a flush; its export becomes read-only. */
@Command(name = "demote", mixinStandardHelpOptions = true,
        description = {"Make this facility SECONDARY for a volume: writes are held, flushed on both sides, and the NBD export "
                + "becomes read-only.",
                "Refused while NBD clients hold the export writable, unless --force (their later writes fail with EPERM). "
                        + "Exit 0 when demoted, 64 when refused."})
final class DemoteCommand extends RoleCommand {
    @Option(names = "--force", description = "Demote even while NBD clients hold the export writable.")
    boolean force;

    @Override
    JsonNode change(FacilityClient facility) {
        return facility.demote(volume, force);
    }
}
