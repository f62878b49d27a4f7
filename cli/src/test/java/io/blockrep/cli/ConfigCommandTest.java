package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code blockrep config check}: text and JSON output, exit codes; and that start-up lists every problem too. */
class ConfigCommandTest {
    static final String SECRET = "0123456789abcdef0123";

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run run(Map<String, String> env, String... args) {
        CommandLine cl = Main.commandLine();
        ((ConfigCommand.Check) cl.getSubcommands().get("config").getSubcommands().get("check").getCommand()).environment = env;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    /** A facility file with five problems: unknown key, bad type, out of range, unlisted volume, size against volume.json. */
    private Path brokenFacility() throws IOException {
        Path state = dir.resolve("state");
        new VolumeStore(state).create("demo", null, 1L << 20, 64 * 1024, Role.PRIMARY);
        return write("site-a.properties", """
                producer.node.id=site-a
                producer.state.dir=%s
                producer.volumes=demo
                producer.volume.demo.size=2M
                producer.autosnyc=false
                producer.nbd.handshake.timeout=soon
                producer.topic.partitions=0
                producer.volume.dmeo.role=SECONDARY
                """.formatted(state));
    }

    private Path cleanReplayer() throws IOException {
        return write("replayer.properties", """
                replayer.id=replayer-1
                replayer.kafka.bootstrap.servers=127.0.0.1:9092
                replayer.link.secret=%s
                replayer.nodes=site-a,site-b
                replayer.node.site-a.link=127.0.0.1:10810
                replayer.node.site-a.control=127.0.0.1:10811
                replayer.node.site-b.link=127.0.0.1:10820
                replayer.node.site-b.control=127.0.0.1:10821
                replayer.volumes=demo
                replayer.volume.demo.nodes=site-a,site-b
                """.formatted(SECRET));
    }

    @Test
    void textListsEveryProblemOfEveryFileAndExitsOne() throws IOException {
        Path facility = brokenFacility();
        Path replayer = cleanReplayer();
        Run r = run(Map.of(), "config", "check", facility.toString(), replayer.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).contains(facility + " (producer): 5 problem(s)")
                .contains("  - producer.autosnyc: unknown key (did you mean 'producer.autosync'?)")
                .contains("  - producer.nbd.handshake.timeout: 'soon' is not a duration")
                .contains("  - producer.topic.partitions: 0 is outside 1..10000")
                .contains("  - producer.volume.dmeo.role: unknown key: 'dmeo' is not listed in producer.volumes [demo]")
                .contains("  - producer.volume.demo.size: configured 2M but the volume is 1M (volumes are not resized)")
                .contains(replayer + " (replayer): ok");
    }

    @Test
    void cleanFilesExitZero() throws IOException {
        Run r = run(Map.of(), "config", "check", cleanReplayer().toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).endsWith("(replayer): ok\n");
    }

    @Test
    void jsonIsOneEntryPerProblemWithKeyAndSuggestion() throws IOException {
        Path facility = brokenFacility();
        Run r = run(Map.of(), "config", "check", "--json", facility.toString(), cleanReplayer().toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        JsonNode array = new ObjectMapper().readTree(r.out());
        assertThat(array).hasSize(5);
        assertThat(array).allSatisfy(p -> {
            assertThat(p.path("file").asText()).isEqualTo(facility.toString());
            assertThat(p.path("kind").asText()).isEqualTo("producer");
        });
        JsonNode typo = array.findParents("key").stream().filter(p -> p.path("key").asText().equals("producer.autosnyc"))
                .findFirst().orElseThrow();
        assertThat(typo.path("problem").asText()).startsWith("unknown key");
        assertThat(typo.path("suggestion").asText()).isEqualTo("producer.autosync");
        JsonNode unlisted = array.findParents("key").stream().filter(p -> p.path("key").asText().equals("producer.volume.dmeo.role"))
                .findFirst().orElseThrow();
        assertThat(unlisted.path("suggestion").asText()).isEqualTo("producer.volume.demo.role");
        assertThat(array.findValuesAsText("key")).contains("producer.volume.demo.size", "producer.topic.partitions");
        assertThat(run(Map.of(), "config", "check", "--json", cleanReplayer().toString()).out().trim()).isEqualTo("[ ]");
    }

    @Test
    void environmentOverridesApplyUnlessNoEnv() throws IOException {
        Path replayer = cleanReplayer();
        Map<String, String> env = Map.of("BLOCKREP_REPLAYER_RATE", "fast", "BLOCKREP_REPLAYER_KAFKA_ACKS", "several");
        Run r = run(env, "config", "check", replayer.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("2 problem(s)").contains("replayer.rate:")
                .contains("replayer.kafka.acks (from BLOCKREP_REPLAYER_KAFKA_ACKS):");
        assertThat(run(env, "config", "check", "--no-env", replayer.toString()).exit()).isZero();
    }

    @Test
    void kindIsToldFromThePrefixesOrGiven() throws IOException {
        Path bare = write("bare.properties", "node.id=x\n");
        Run r = run(Map.of(), "config", "check", bare.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--kind");
        Run asReplayer = run(Map.of(), "config", "check", "--kind", "replayer", bare.toString());
        assertThat(asReplayer.exit()).isEqualTo(1);
        assertThat(asReplayer.out()).contains("(replayer):").contains("node.id: unknown key").contains("replayer.id: required");
    }

    @Test
    void usageAndIoErrorsExitTwo() throws IOException {
        assertThat(run(Map.of(), "config", "check").exit()).isEqualTo(2);
        assertThat(run(Map.of(), "config", "check", "--bogus", cleanReplayer().toString()).exit()).isEqualTo(2);
        assertThat(run(Map.of(), "config", "check", "--kind", "kafka", cleanReplayer().toString()).exit()).isEqualTo(2);
        Run missing = run(Map.of(), "config", "check", dir.resolve("nope.properties").toString(), cleanReplayer().toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.properties");
        assertThat(missing.out()).as("the readable file is still checked").contains("(replayer): ok");
        assertThat(run(Map.of(), "config", "check", "--help").out()).contains("Usage: blockrep config check");
    }

    @Test
    void aFacilityStartedWithABrokenFileListsEveryProblemAndExits78() throws IOException {
        Run r = run(Map.of(), "producer", "--config", brokenFacility().toString());
        assertThat(r.exit()).isEqualTo(78);
        assertThat(r.err()).contains("5 problems:").contains("producer.autosnyc").contains("producer.nbd.handshake.timeout")
                .contains("producer.topic.partitions").contains("producer.volume.dmeo.role").contains("producer.volume.demo.size");
    }

    @Test
    void aReplayerStartedWithABrokenFileListsEveryProblemAndExits78() throws IOException {
        Path file = write("replayer.properties", Files.readString(cleanReplayer())
                .replace("replayer.id=replayer-1", "replayer.id=Replayer 1")
                .replace("replayer.volume.demo.nodes=site-a,site-b", "replayer.volume.demo.nodes=site-a,site-c")
                + "replayer.rate=fast\nreplayer.skip.identcal=true\nreplayer.kafka.acks=several\n");
        Run r = run(Map.of(), "replayer", "--config", file.toString());
        assertThat(r.exit()).isEqualTo(78);
        assertThat(r.err()).contains("5 problems:").contains("replayer.id:").contains("replayer.volume.demo.nodes:")
                .contains("replayer.rate:").contains("replayer.skip.identcal: unknown key (did you mean 'replayer.skip.identical'?)")
                .contains("replayer.kafka.acks:");
        Run check = run(Map.of(), "config", "check", file.toString());
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.out()).contains("5 problem(s)");
    }
}
