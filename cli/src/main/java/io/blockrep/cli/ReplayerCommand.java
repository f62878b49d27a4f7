package io.blockrep.cli;

import io.blockrep.common.thread.FatalExit;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep replayer --config FILE}: the continuous resync service, until Ctrl-C or SIGTERM. */
@Command(name = "replayer", mixinStandardHelpOptions = true,
        description = {"Run the replayer service: a consumer group on the dirty topic that copies the dirty regions of",
            "closed eras from each primary to its secondary. Several instances share the volumes by partition."})
final class ReplayerCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Replayer properties file.")
    Path config;

    @CommandLine.Mixin
    ServiceOptions service;

    @Option(names = "--check", description = "Validate the configuration (including the replayer.kafka.* client settings) and exit.")
    boolean check;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (service.printedReference(ReplayerConfig.DEF)) {
            return 0;
        }
        ReplayerConfig cfg = ReplayerConfig.load(service.required(config), System.getenv());
        if (check) {
            out.printf("%s: configuration is valid (%d volume(s))%n", config, cfg.volumes().size());
            out.flush();
            return 0;
        }
        // The backstop: a thread that dies on an exception nobody handled exits the process non-zero (FatalExit).
        FatalExit.install("blockrep replayer");
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (ReplayerService service = ReplayerService.start(cfg)) {
                out.printf("replayer %s: group %s on %s, %d volume(s) configured%n", cfg.id(), cfg.groupId(),
                        cfg.bootstrapServers(), cfg.volumes().size());
                service.metrics().url().ifPresent(url -> out.printf("  metrics (Prometheus)  %s%n", url));
                out.flush();
                Throwable failed = signal.awaitOrFailure(service.failed());
                if (failed != null) {
                    // The worker or the consumer died: leave the group at once (close) so another instance takes over, and exit non-zero.
                    spec.commandLine().getErr().println("replayer " + cfg.id() + " failed: " + failed);
                    spec.commandLine().getErr().flush();
                    throw new io.blockrep.common.FatalException("replayer " + cfg.id() + " stopped after a failure: " + failed, failed);
                }
                out.println("stopping replayer " + cfg.id() + " ...");
                out.flush();
            }
            out.println("stopped cleanly");
            out.flush();
        }
        return 0;
    }
}
