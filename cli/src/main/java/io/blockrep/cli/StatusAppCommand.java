package io.blockrep.cli;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.thread.FatalExit;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.status.StatusApp;
import io.blockrep.replayer.status.StatusCodecs;
import io.blockrep.replayer.status.StatusTopics;
import io.blockrep.schemas.registry.ValueCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code blockrep status-app}: the status app alone (as the replayer service runs it with
 * {@code replayer.status.app.enabled}), from a replayer properties file or from flags, until Ctrl-C or SIGTERM.
 */
@Command(name = "status-app", mixinStandardHelpOptions = true,
        description = {"Run the status app alone: a Kafka Streams application that folds the dirty and events topics into the",
            "compacted <prefix>status table (read it with blockrep status --bootstrap-server) and answers GET /v1/status",
            "and GET /v1/status/{volume} from its store. Give a replayer --config FILE, or --bootstrap-server."})
final class StatusAppCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Replayer properties file: its replayer.kafka.*, replayer.topic.prefix and replayer.status.* keys are used.")
    Path config;

    @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", description = "Kafka bootstrap servers (instead of --config).")
    String bootstrap;

    @Option(names = "--topic-prefix", paramLabel = "P", defaultValue = TopicLayout.DEFAULT_PREFIX,
            description = "Topic prefix, with --bootstrap-server (default: ${DEFAULT-VALUE}).")
    String prefix;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:10815",
            description = "Interactive query listener, with --bootstrap-server (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "status-app-state/standalone",
            description = "Kafka Streams state directory, with --bootstrap-server (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if ((config == null) == (bootstrap == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Give exactly one of --config=FILE and --bootstrap-server=HOST:PORT");
        }
        ReplayerConfig replayer = config == null ? null : ReplayerConfig.load(config, System.getenv());
        StatusApp.Settings settings = replayer != null ? StatusApp.Settings.of(replayer) : standaloneSettings();
        StatusCodecs codecs = replayer != null
                ? StatusCodecs.of(ValueCodecs.of(replayer.registry(), new TopicLayout(replayer.topicPrefix())).readers())
                : StatusCodecs.defaults();
        FatalExit.install("blockrep status-app");
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (StatusApp app = StatusApp.start(settings, codecs)) {
                out.printf("status app %s: %s + %s into %s; query http://%s/v1/status%n", settings.applicationId(),
                        settings.topics().dirty(), settings.topics().events(), settings.topics().status(), app.httpAddress());
                out.flush();
                signal.await();
                out.println("stopping the status app ...");
                out.flush();
            }
            out.println("stopped cleanly");
            out.flush();
        }
        return 0;
    }

    /** With --bootstrap-server: values in single-object encoding only (the registry settings are in a replayer file). */
    private StatusApp.Settings standaloneSettings() {
        Properties client = new Properties();
        client.setProperty("bootstrap.servers", bootstrap);
        HostPort address;
        try {
            address = HostPort.parse(listen);
            new TopicLayout(prefix);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        return new StatusApp.Settings(client, prefix, StatusTopics.of(new TopicLayout(prefix)), stateDir, address);
    }
}
