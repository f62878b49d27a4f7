package io.blockrep.cli;

import io.blockrep.common.Sizes;
import io.blockrep.common.thread.FatalExit;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blockrep producer --config FILE}: runs one facility until Ctrl-C or SIGTERM. */
@Command(name = "producer", mixinStandardHelpOptions = true,
        description = {"Run one facility: serve its volumes over NBD (and, later, replicate and log them).",
            "Configuration keys are listed in the README; BLOCKREP_<KEY> environment variables override the file."})
final class ProducerCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Facility properties file.")
    Path config;

    @CommandLine.Mixin
    ServiceOptions service;

    @Option(names = "--check", description = "Validate the configuration and exit.")
    boolean check;

    @Override
    public Integer call() throws InterruptedException {
        if (service.printedReference(ProducerConfig.DEF)) {
            return 0;
        }
        ProducerConfig cfg = ProducerConfig.load(service.required(config), System.getenv());
        PrintWriter out = spec.commandLine().getOut();
        if (check) {
            out.printf("%s: configuration is valid (%d volume(s))%n", config, cfg.volumes().size());
            return 0;
        }
        // The backstop: a thread that dies on an exception nobody handled exits the process non-zero (FatalExit).
        FatalExit.install("blockrep producer");
        // The signal handle is closed last: once it is, a pending Ctrl-C lets the JVM exit.
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (Facility facility = Facility.start(cfg)) {
                printServing(out, facility);
                signal.await();
                out.println("stopping facility " + facility.nodeId() + " ...");
                out.flush();
            }
            out.println("stopped cleanly");
            out.flush();
        }
        return 0;
    }

    static void printServing(PrintWriter out, Facility facility) {
        out.printf("facility %s: NBD on %s:%d%n", facility.nodeId(), facility.nbdHost(), facility.nbdPort());
        for (VolumeMetadata v : facility.volumes()) {
            out.printf("  volume %-20s %8s  region %-4s  %-9s  nbd://%s:%d/%s%n", v.id(), Sizes.format(v.size()),
                    Sizes.format(v.regionSize()), v.role(), facility.nbdHost(), facility.nbdPort(), v.id());
        }
        facility.metricsUrl().ifPresent(url -> out.printf("  metrics (Prometheus)  %s%n", url));
        out.flush();
    }
}
