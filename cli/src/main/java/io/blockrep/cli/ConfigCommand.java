package io.blockrep.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockrep.common.BlockrepException;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.common.config.ConfigProblem;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.replayer.ReplayerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blockrep config ...}: work with configuration files offline. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Work with facility and replayer configuration files.",
        subcommands = {ConfigCommand.Check.class})
final class ConfigCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code blockrep config check FILE...}: the validation a facility or replayer runs at start
     * ({@link ProducerConfig#problems}, {@link ReplayerConfig#problems}), offline, every problem of every
     * file at once. Its own exit codes, for CI: 0 clean, 1 problems found, 2 usage or I/O error.
     */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validate facility (producer.*) and replayer (replayer.*) configuration files offline, as at start: "
                    + "unknown keys (with a did-you-mean), bad values, missing required keys, per-volume keys of unlisted volumes, "
                    + "cross-checks, Kafka client settings, and volumes whose size, region size or path disagree with their "
                    + "metadata in the state directory (when it exists). BLOCKREP_* environment overrides apply unless --no-env.",
                    "Every problem is reported at once. Exit 0 when clean, 1 when problems were found, 2 on usage or I/O errors."})
    static final class Check implements Callable<Integer> {
        static final int CLEAN = 0;
        static final int PROBLEMS = 1;
        static final int USAGE = 2;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "0..*", paramLabel = "FILE", description = "Properties files to check.")
        List<Path> files = new ArrayList<>();

        @Option(names = "--kind", arity = "0..1", fallbackValue = "", paramLabel = "KIND",
                description = "producer or replayer, for every FILE (default: told from the keys' prefixes).")
        String kind;

        @Option(names = "--no-env", description = "Ignore BLOCKREP_* environment overrides.")
        boolean noEnv;

        @Option(names = "--json", description = "Print the problems as a JSON array of {file, kind, key, problem, suggestion}.")
        boolean json;

        /** Unknown options: a usage error with this verb's exit code (2), not picocli's. */
        @CommandLine.Unmatched
        List<String> unmatched = new ArrayList<>();

        /** The environment the overrides come from; tests set it. */
        Map<String, String> environment = System.getenv();

        private record Finding(Path file, String kind, ConfigProblem problem) {
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            String usage = usageProblem();
            if (usage != null) {
                err.println("error: " + usage);
                err.println("Run 'blockrep config check --help' for usage.");
                err.flush();
                return USAGE;
            }
            Map<String, String> env = noEnv ? Map.of() : environment;
            List<Finding> findings = new ArrayList<>();
            boolean ioError = false;
            for (Path file : files) {
                Properties props;
                try {
                    props = ConfigDef.readFile(file);
                } catch (BlockrepException e) {
                    err.println("error: " + e.getMessage());
                    ioError = true;
                    continue;
                }
                String fileKind = kind != null ? kind.toLowerCase(Locale.ROOT) : kindOf(props);
                if (fileKind == null) {
                    err.println("error: " + file + ": cannot tell a facility file (producer.* keys) from a replayer file "
                            + "(replayer.* keys); give --kind producer or --kind replayer");
                    ioError = true;
                    continue;
                }
                List<String> problems = fileKind.equals("producer") ? ProducerConfig.problems(props, env)
                        : ReplayerConfig.problems(props, env);
                problems.forEach(p -> findings.add(new Finding(file, fileKind, ConfigProblem.of(p))));
                if (!json) {
                    printText(out, file, fileKind, problems);
                }
            }
            if (json) {
                printJson(out, findings);
            }
            out.flush();
            err.flush();
            return ioError ? USAGE : findings.isEmpty() ? CLEAN : PROBLEMS;
        }

        private String usageProblem() {
            if (!unmatched.isEmpty()) {
                return "unknown option or argument: " + String.join(" ", unmatched);
            }
            if (files.isEmpty()) {
                return "give at least one FILE";
            }
            if (kind != null && !List.of("producer", "replayer").contains(kind.toLowerCase(Locale.ROOT))) {
                return "--kind must be producer or replayer, not '" + kind + "'";
            }
            return null;
        }

        /** producer or replayer, from the prefix most keys have; null when no key (or as many of each) has one. */
        static String kindOf(Properties props) {
            long producer = props.stringPropertyNames().stream().filter(k -> k.startsWith("producer.")).count();
            long replayer = props.stringPropertyNames().stream().filter(k -> k.startsWith("replayer.")).count();
            return producer > replayer ? "producer" : replayer > producer ? "replayer" : null;
        }

        private static void printText(PrintWriter out, Path file, String kind, List<String> problems) {
            if (problems.isEmpty()) {
                out.printf("%s (%s): ok%n", file, kind);
                return;
            }
            out.printf("%s (%s): %d problem(s)%n", file, kind, problems.size());
            problems.forEach(p -> out.println("  - " + p));
        }

        private static void printJson(PrintWriter out, List<Finding> findings) throws Exception {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode array = mapper.createArrayNode();
            for (Finding f : findings) {
                ObjectNode o = array.addObject();
                o.put("file", f.file().toString());
                o.put("kind", f.kind());
                o.put("key", f.problem().key());
                o.put("problem", f.problem().problem());
                o.put("suggestion", f.problem().suggestion());
            }
            out.println(mapper.writeValueAsString(array));
        }
    }
}
