package io.blockrep.cli;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code blockrep} command. One class per verb; exit codes follow the exception type:
 * 0 success, 64 bad arguments, 74 fatal error, 75 temporary failure (retry may help),
 * 78 bad configuration, 130 interrupted.
 */
@Command(name = "blockrep",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Block-level remote replication with dirty-region tracking in Apache Kafka.",
        subcommands = {
            QuickstartCommand.class,
            ProducerCommand.class,
            StatusCommand.class,
            LinkCommand.class,
            ApproveCommand.class,
            PromoteCommand.class,
            DemoteCommand.class,
            ResolveCommand.class,
            ReplayCommand.class,
            VerifyCommand.class,
            ReplayerCommand.class,
            StatusAppCommand.class,
            VolumeCommand.class,
            KafkaCommand.class,
            LagCommand.class,
            ConfigCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    public static final int EXIT_USAGE = 64;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Avro 1.12 decodes into generated classes only from trusted packages; trust ours even when
        // the JVM was started without -Dorg.apache.avro.SERIALIZABLE_PACKAGES (java -jar blockrep.jar).
        io.blockrep.schemas.codec.TrustedPackages.trustSchemaPackage();
        System.exit(run(args));
    }

    public static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true); // --progress auto, as well as AUTO
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof BlockrepException be) {
                cmd.getErr().println("error: " + describe(be));
                return be.exitCode();
            }
            cmd.getErr().println("error: " + ex);
            ex.printStackTrace(cmd.getErr());
            return 70;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("error: " + ex.getMessage());
            cmd.getErr().println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
            return EXIT_USAGE;
        });
        return cl;
    }

    static String describe(BlockrepException e) {
        if (e instanceof InvalidInputException iie && iie.problems().size() > 1) {
            return iie.problems().size() + " problems:\n  - " + String.join("\n  - ", iie.problems());
        }
        return e.getMessage();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"blockrep " + (v == null ? "development build" : v)};
        }
    }
}
