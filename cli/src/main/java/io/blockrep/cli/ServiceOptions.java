package io.blockrep.cli;

import io.blockrep.common.config.ConfigDef;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the long-running service verbs ({@code producer}, {@code replayer}) share before they load their
 * configuration: {@code --config-reference}, and the usage error when {@code --config} is missing. A
 * picocli mixin; each verb keeps its own {@code --config} and {@code --check} (their help differs).
 */
final class ServiceOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--config-reference", description = "Print the table of configuration keys (Markdown) and exit.")
    boolean reference;

    /** With {@code --config-reference}: prints {@code def}'s table and returns true; else false. */
    boolean printedReference(ConfigDef def) {
        if (!reference) {
            return false;
        }
        PrintWriter out = mixee.commandLine().getOut();
        out.print(def.markdownTable());
        out.flush();
        return true;
    }

    /** {@code config}, or a usage error when {@code --config} was not given. */
    Path required(Path config) {
        if (config == null) {
            throw new CommandLine.ParameterException(mixee.commandLine(), "Missing required option: '--config=FILE'");
        }
        return config;
    }
}
