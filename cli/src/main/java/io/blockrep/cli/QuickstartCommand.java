package io.blockrep.cli;

import io.blockrep.common.Sizes;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.kafka.EmbeddedKafka;
import io.blockrep.kafka.EmbeddedKafkaConfig;
import io.blockrep.producer.Facility;
import io.blockrep.producer.ProducerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code blockrep quickstart}: everything in one process on loopback — the embedded Kafka broker
 * and a facility with a demo volume exported over NBD — with instructions for real NBD clients.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run embedded Kafka and a facility with a demo volume on loopback; stop with Ctrl-C.")
final class QuickstartCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", defaultValue = "run/quickstart", paramLabel = "DIR",
            description = "Where the broker and the facility keep their data (default: ${DEFAULT-VALUE}); kept between runs.")
    Path dir;

    @Option(names = "--kafka-port", defaultValue = "19092", paramLabel = "PORT", description = "Kafka broker port (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--nbd-port", defaultValue = "10809", paramLabel = "PORT", description = "NBD port (default: ${DEFAULT-VALUE}).")
    int nbdPort;

    @Option(names = "--volume-size", defaultValue = "1G", paramLabel = "SIZE", description = "Size of the demo volume (default: ${DEFAULT-VALUE}).")
    String volumeSize;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Path base = dir.toAbsolutePath();
        ProducerConfig siteA = ProducerConfig.standalone("site-a", base.resolve("site-a"), new HostPort("127.0.0.1", nbdPort),
                List.of(new ProducerConfig.VolumeSpec("demo", Sizes.parse(volumeSize), RegionGeometry.DEFAULT_REGION_SIZE, null, Role.PRIMARY, "")));
        out.println("blockrep quickstart: starting embedded Kafka and facility site-a in " + base + " ...");
        out.flush();
        // The signal handle is closed last: once it is, a pending Ctrl-C lets the JVM exit.
        try (UntilInterrupted signal = new UntilInterrupted()) {
            try (EmbeddedKafka kafka = new EmbeddedKafka(EmbeddedKafkaConfig.builder(base.resolve("kafka"))
                    .brokerPort(kafkaPort).controllerPort(0).build())) {
                kafka.start();
                try (Facility facility = Facility.start(siteA)) {
                    printBanner(out, kafka, facility);
                    signal.await();
                    out.println("stopping ...");
                    out.flush();
                }
            }
            out.println("stopped cleanly; data kept in " + base);
            out.flush();
        }
        return 0;
    }

    private static void printBanner(PrintWriter out, EmbeddedKafka kafka, Facility facility) {
        String uri = "nbd://" + facility.nbdHost() + ":" + facility.nbdPort() + "/demo";
        out.println();
        out.println("  Kafka (embedded KRaft)  " + kafka.bootstrapServers());
        ProducerCommand.printServing(out, facility);
        out.println();
        out.println("Try it from another terminal:");
        out.println("  nbdinfo --list nbd://" + facility.nbdHost() + ":" + facility.nbdPort());
        out.println("  qemu-io -f raw " + uri + " -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M'");
        out.println("  head -c 64M /dev/urandom > /tmp/data.bin && nbdcopy /tmp/data.bin " + uri);
        out.println("  nbdcopy " + uri + " - | head -c 64M | sha256sum; sha256sum /tmp/data.bin");
        out.println("  nbd-client " + facility.nbdHost() + " " + facility.nbdPort() + " /dev/nbd0 -N demo   # kernel client, where /dev/nbd* exists");
        out.println();
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }
}
