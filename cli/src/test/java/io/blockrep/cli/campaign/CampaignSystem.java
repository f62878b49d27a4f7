package io.blockrep.cli.campaign;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.cli.BlockrepProcess;
import io.blockrep.cli.ControlApi;
import io.blockrep.cli.ReplayerProperties;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.Tmpfs;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.net.LinkProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The system under the campaign, real processes from the packaged jar: facility site-a (PRIMARY of
 * {@code vol}, its state directory on a small {@link Tmpfs} so it can fill up), facility site-b
 * (SECONDARY, its copy of the volume on another tmpfs), the link a → b through a {@link LinkProxy},
 * a replayer service process, and the test's in-JVM Kafka broker (restartable on the same port).
 * The replayer reaches both facilities directly, not through the proxy.
 *
 * <p>Every process ever started is kept until {@link #close}, so that the logs of killed ones are
 * checked too ({@link #uncaughtExceptions}). Not thread-safe: the campaign's test thread drives it.
 */
final class CampaignSystem implements AutoCloseable {
    static final long SIZE = 64L << 20;
    static final int REGION = 64 << 10;
    /** The producer's Kafka delivery timeout: BROKER_DOWN lasts longer than this. */
    static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(4);
    private static final String SECRET = "campaign-secret-0123456789abcdef";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path dir;
    private final KafkaBroker kafka;
    private final List<ExternalCommand.Running> everStarted = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private Tmpfs primaryState;
    private Tmpfs secondaryStore;
    private LinkProxy proxy;
    private Path configA;
    private Path configB;
    private Path configReplayer;
    private ControlApi controlA;
    private ControlApi controlB;
    private int nbdA;
    private ExternalCommand.Running primary;
    private ExternalCommand.Running secondary;
    private ExternalCommand.Running replayer;
    private ExternalCommand.Running load;

    CampaignSystem(Path dir, KafkaBroker kafka) {
        this.dir = dir;
        this.kafka = kafka;
    }

    CampaignSystem start() {
        primaryState = Tmpfs.mount(dir.resolve("site-a"), 16L << 20);
        secondaryStore = Tmpfs.mount(dir.resolve("store-b"), SIZE + (16L << 20));
        try {
            Files.createDirectories(dir.resolve("data-a"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int linkA = FreePorts.find();
        int linkB = FreePorts.find();
        int portControlA = FreePorts.find();
        int portControlB = FreePorts.find();
        nbdA = FreePorts.find();
        proxy = new LinkProxy("127.0.0.1", linkB);
        configB = facility("site-b", "SECONDARY", FreePorts.find(), portControlB, Map.of(
                "producer.link.listen", "127.0.0.1:" + linkB,
                "producer.volume.vol.path", secondaryFile().toString()));
        configA = facility("site-a", "PRIMARY", nbdA, portControlA, Map.of(
                "producer.link.listen", "127.0.0.1:" + linkA,
                "producer.link.peer", "127.0.0.1:" + proxy.port(),
                "producer.volume.vol.path", primaryFile().toString()));
        controlA = new ControlApi(portControlA);
        controlB = new ControlApi(portControlB);
        configReplayer = BlockrepProcess.write(dir.resolve("replayer.properties"), replayerProps(linkA, portControlA, linkB, portControlB));
        restartSecondary();
        restartPrimary();
        restartReplayer();
        return this;
    }

    private Path facility(String node, String role, int nbd, int control, Map<String, String> link) {
        Map<String, String> more = BlockrepProcess.withKafka(kafka.bootstrapServers(), link);
        // 1 s without a frame before the link counts as down: a 2-core box shared with other builds delays heartbeats.
        more.put("producer.link.missed.heartbeats", "10");
        more.put("producer.kafka.delivery.timeout.ms", Long.toString(DELIVERY_TIMEOUT.toMillis()));
        more.put("producer.kafka.request.timeout.ms", "1500");
        more.put("producer.volume.vol.region.size", "64K");
        return BlockrepProcess.facilityConfig(dir, node, role, SIZE, nbd, control, SECRET, more);
    }

    private Properties replayerProps(int linkA, int controlPortA, int linkB, int controlPortB) {
        Properties p = ReplayerProperties.of("r-campaign", kafka.bootstrapServers(), SECRET, List.of("vol"),
                new ReplayerProperties.Node("site-a", linkA, controlPortA), new ReplayerProperties.Node("site-b", linkB, controlPortB));
        // A killed replayer is replaced once its session times out: keep that short.
        p.setProperty("replayer.kafka.session.timeout.ms", "6000");
        p.setProperty("replayer.kafka.heartbeat.interval.ms", "1000");
        return p;
    }

    void restartPrimary() {
        primary = startFacility("site-a", configA, controlA);
    }

    void restartSecondary() {
        secondary = startFacility("site-b", configB, controlB);
    }

    void restartReplayer() {
        replayer = BlockrepProcess.start("replayer", configReplayer);
        keep("replayer", replayer);
    }

    private ExternalCommand.Running startFacility(String name, Path config, ControlApi control) {
        ExternalCommand.Running p = BlockrepProcess.start("producer", config);
        keep(name, p);
        BlockrepProcess.await(await().atMost(START_TIMEOUT), () -> !p.isAlive() || control.volume() != null, p);
        if (!p.isAlive()) {
            throw new AssertionError(name + " exited at start:\n" + p.stdout() + p.stderr());
        }
        return p;
    }

    private void keep(String name, ExternalCommand.Running p) {
        everStarted.add(p);
        names.add(name + "-" + everStarted.size());
    }

    /** Resets both ends of every TCP connection through the link proxy's port with {@code ss -K} (needs root). */
    void killLinkSockets() {
        String port = Integer.toString(proxy.port());
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(10), "ss", "-K", "-t",
                "( sport = :" + port + " or dport = :" + port + " )");
        if (r.exitCode() != 0) {
            throw new AssertionError(r.describe());
        }
    }

    /** Starts the round's load against the primary; {@link #stopLoad} or the round's end stops it. */
    ExternalCommand.Running startLoad(CampaignLoad plan) {
        load = plan.start(primaryUri());
        return load;
    }

    /** Kills the running load (SIGKILL), if any. */
    void stopLoad() {
        if (load != null) {
            load.kill();
        }
    }

    /** Waits until the primary reports {@code mode}, at most {@code atMost}. */
    void awaitPrimaryMode(String mode, Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < end) {
            JsonNode v = primaryStatus();
            if (v != null && mode.equals(v.path("mode").asText())) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
    }

    /** Waits until the primary reports a mode other than LOGGING (or does not answer), at most {@code atMost}. */
    void awaitPrimaryLeftLogging(Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < end) {
            JsonNode v = primaryStatus();
            if (v != null && !"LOGGING".equals(v.path("mode").asText())) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
    }

    KafkaBroker broker() {
        return kafka;
    }

    LinkProxy proxy() {
        return proxy;
    }

    Tmpfs primaryState() {
        return primaryState;
    }

    Tmpfs secondaryStore() {
        return secondaryStore;
    }

    ExternalCommand.Running primary() {
        return primary;
    }

    ExternalCommand.Running secondary() {
        return secondary;
    }

    ExternalCommand.Running replayer() {
        return replayer;
    }

    /** The primary's volume status from its control API, or null while it does not answer. */
    JsonNode primaryStatus() {
        return controlA.volume();
    }

    String primaryUri() {
        return "nbd://127.0.0.1:" + nbdA + "/vol";
    }

    Path primaryFile() {
        return dir.resolve("data-a/vol.img");
    }

    Path secondaryFile() {
        return dir.resolve("store-b/vol.img");
    }

    /** The current primary, secondary and replayer that have exited (each by name), empty when all run. */
    List<String> deadProcesses() {
        List<String> dead = new ArrayList<>();
        for (ExternalCommand.Running p : List.of(primary, secondary, replayer)) {
            if (!p.isAlive()) {
                dead.add(names.get(everStarted.indexOf(p)) + " (pid " + p.pid() + ")");
            }
        }
        return dead;
    }

    /** Lines of any process log (killed processes included) that show a thread died of an exception. */
    List<String> uncaughtExceptions() {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < everStarted.size(); i++) {
            ExternalCommand.Running p = everStarted.get(i);
            for (String line : (p.stdout() + "\n" + p.stderr()).split("\n")) {
                if (line.contains("Exception in thread") || line.contains("Uncaught")) {
                    found.add(names.get(i) + ": " + line);
                }
            }
        }
        return found;
    }

    /** Copies every process's output to {@code out} (one file per process), for the failure's reader. */
    void saveLogs(Path out) {
        try {
            Files.createDirectories(out);
            for (int i = 0; i < everStarted.size(); i++) {
                ExternalCommand.Running p = everStarted.get(i);
                Files.writeString(out.resolve(names.get(i) + ".log"), p.stdout() + "\n--- stderr\n" + p.stderr());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (ExternalCommand.Running p : everStarted) {
            p.signal("CONT");
            p.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (!kafka.isRunning()) {
            kafka.start();
        }
        if (secondaryStore != null) {
            secondaryStore.close();
        }
        if (primaryState != null) {
            primaryState.close();
        }
    }
}
