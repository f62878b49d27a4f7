package io.blockrep.cli;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep volume ...}: manage volumes in a facility's state directory. */
@Command(name = "volume", mixinStandardHelpOptions = true,
        description = "Create and list volumes in a facility's state directory.",
        subcommands = {VolumeCommand.Create.class, VolumeCommand.ListVolumes.class})
final class VolumeCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a volume: a sparse backing file (or an existing block device) and its metadata.")
    static final class Create implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "Volume id: 1-63 of a-z, 0-9, '-'.")
        String id;

        @Option(names = "--state-dir", required = true, paramLabel = "DIR",
                description = "The facility's state directory (producer.state.dir).")
        Path stateDir;

        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "Volume size, e.g. 1G, 512M.")
        String size;

        @Option(names = "--region-size", defaultValue = "64K", paramLabel = "SIZE",
                description = "Dirty-tracking region size, a power of two from 4K to 16M (default: ${DEFAULT-VALUE}).")
        String regionSize;

        @Option(names = "--path", paramLabel = "FILE",
                description = "Backing file or block device (default: STATE-DIR/volumes/ID/data.img).")
        Path path;

        @Option(names = "--role", defaultValue = "PRIMARY", paramLabel = "ROLE",
                description = "PRIMARY or SECONDARY (default: ${DEFAULT-VALUE}).")
        Role role;

        @Override
        public Integer call() {
            List<String> problems = new ArrayList<>();
            long bytes = parseSize("--size", size, problems);
            long region = parseSize("--region-size", regionSize, problems);
            if (!problems.isEmpty()) {
                throw new InvalidInputException(problems, Main.EXIT_USAGE);
            }
            VolumeMetadata meta = new VolumeStore(stateDir).create(id, path, bytes, (int) Math.min(region, Integer.MAX_VALUE), role);
            spec.commandLine().getOut().printf("created volume %s: %s (%s), region size %s, role %s, backed by %s%n",
                    meta.id(), Sizes.format(meta.size()), Sizes.human(meta.size()), Sizes.format(meta.regionSize()),
                    meta.role(), meta.path());
            return 0;
        }

        private static long parseSize(String option, String text, List<String> problems) {
            try {
                return Sizes.parse(text);
            } catch (InvalidInputException e) {
                problems.add(option + ": " + e.getMessage());
                return 0;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the volumes in a state directory.")
    static final class ListVolumes implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--state-dir", required = true, paramLabel = "DIR", description = "The facility's state directory.")
        Path stateDir;

        @Override
        public Integer call() {
            VolumeStore store = new VolumeStore(stateDir);
            var out = spec.commandLine().getOut();
            out.printf("%-24s %10s %8s %-10s %s%n", "VOLUME", "SIZE", "REGION", "ROLE", "PATH");
            for (String id : store.list()) {
                VolumeMetadata m = store.load(id);
                out.printf("%-24s %10s %8s %-10s %s%n", m.id(), Sizes.format(m.size()), Sizes.format(m.regionSize()), m.role(), m.path());
            }
            return 0;
        }
    }
}
