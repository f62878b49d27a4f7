package io.blockrep.cli;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.Generation;
import io.blockrep.common.volume.InitialSync;
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
            description = {"Create a volume: a sparse backing file (or an existing file or block device) and its metadata.",
                    "Over an existing path that holds data, a PRIMARY starts in a generation of its own and gives its first peer an "
                            + "initial sync of every region that holds data (holes and zeros are skipped); a SECONDARY starts unrelated "
                            + "to any primary (join them with blockrep replay --full). --assume-clean skips both."})
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

        @Option(names = "--node", paramLabel = "NODE", defaultValue = "",
                description = "This facility's node id (producer.node.id): names the generation of a copy over existing data.")
        String node;

        @Option(names = "--assume-clean",
                description = "The copies on both sides are known to be identical (or both empty): no initial sync. Not checked; "
                        + "blockrep verify compares them.")
        boolean assumeClean;

        @Override
        public Integer call() {
            List<String> problems = new ArrayList<>();
            long bytes = parseSize("--size", size, problems);
            long region = parseSize("--region-size", regionSize, problems);
            if (!problems.isEmpty()) {
                throw new InvalidInputException(problems, Main.EXIT_USAGE);
            }
            VolumeMetadata meta = new VolumeStore(stateDir).create(new VolumeStore.NewVolume(id, path, bytes,
                    (int) Math.min(region, Integer.MAX_VALUE), role, node, assumeClean));
            var out = spec.commandLine().getOut();
            out.printf("created volume %s: %s (%s), region size %s, role %s, backed by %s%n",
                    meta.id(), Sizes.format(meta.size()), Sizes.human(meta.size()), Sizes.format(meta.regionSize()),
                    meta.role(), meta.path());
            if (assumeClean) {
                out.printf("assumed clean: no initial sync; both copies are taken to be identical (check with blockrep verify %s)%n", meta.id());
            } else if (meta.initialSync().phase() == InitialSync.Phase.PENDING) {
                out.printf("%s holds data: generation %s; its first peer gets an initial sync of every region that holds data%n",
                        meta.path(), meta.generations().current().idText());
            } else if (meta.generations().currentId() != Generation.CREATED) {
                out.printf("%s holds data: generation %s, unrelated to any primary; join them with blockrep replay %s --full%n",
                        meta.path(), meta.generations().current().idText(), meta.id());
            }
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
