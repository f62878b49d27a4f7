package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.replayer.index.DirtyTopicFollower;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import io.blockrep.testkit.FreePorts;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/** {@code blockrep lag} against the in-JVM broker, with a real replayer group member committing the backlog. */
@ExtendWith(KafkaBrokerExtension.class)
class LagCommandIT {
    private static final int PARTITIONS = 3;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private record Run(int exit, String out, String err) {
    }

    private static Run lag(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "lag";
        System.arraycopy(args, 0, all, 1, args.length);
        int exit = cl.execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Properties client(KafkaBroker kafka) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    private static final DirtyTopicFollower.OwnershipListener QUIET = new DirtyTopicFollower.OwnershipListener() {
        @Override
        public void volumesAssigned(Set<String> volumes) {
        }

        @Override
        public void volumesRevoked(Set<String> volumes) {
        }
    };

    @Test
    void showsTheBacklogPerVolumeAndExitsZeroOnlyOnceEveryRegionIsReplayed(KafkaBroker kafka) throws Exception {
        TopicLayout layout = new TopicLayout("lagit.");
        layout.topicConfigs().forEach((name, configs) -> kafka.createTopic(name, PARTITIONS, configs));
        int partition = TopicLayout.partitionFor("vol-a", PARTITIONS);
        Properties producer = client(kafka);
        producer.put("key.serializer", ByteArraySerializer.class.getName());
        producer.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> feed = new KafkaProducer<>(producer);
             DirtyTopicFollower member = DirtyTopicFollower.start(client(kafka), "lag-it", "r1", layout.dirty(), QUIET)) {
            for (long r = 0; r < 5; r++) {
                feed.send(new ProducerRecord<>(layout.dirty(), partition, DirtyKey.region("vol-a", "site-a", 1, r).bytes(),
                        Codecs.DIRTY_REGION.encode(new DirtyRegion(100L, 65536, 1L << 30, DirtyCause.LOGGED_WRITE))));
            }
            feed.flush();
            String[] args = {"--bootstrap-server", kafka.bootstrapServers(), "--group", "lag-it", "--topic-prefix", "lagit.",
                "--volume", "vol-a"};
            await().atMost(WAIT).until(() -> lag(args).out().contains("total lag 5"));
            Run lagging = lag(args);
            assertThat(lagging.exit()).as(lagging.out() + lagging.err()).isEqualTo(1);
            assertThat(lagging.out()).containsPattern("vol-a\\s+" + partition + "\\s+5\\n");

            String[] jsonArgs = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--json"))
                    .toArray(String[]::new);
            JsonNode json = new ObjectMapper().readTree(lag(jsonArgs).out());
            assertThat(json.path("volumes").get(0).path("lag").asLong()).isEqualTo(5);
            assertThat(json.path("partitions")).hasSize(PARTITIONS);
            assertThat(json.path("partitions").get(partition).path("volumes").get(0).asText()).isEqualTo("vol-a");
            assertThat(json.path("members").asInt()).isEqualTo(1);

            for (long r = 0; r < 5; r++) {
                feed.send(new ProducerRecord<>(layout.dirty(), partition, DirtyKey.region("vol-a", "site-a", 1, r).bytes(), null));
            }
            feed.flush();
            await().atMost(WAIT).until(() -> lag(args).exit() == 0);
            assertThat(lag(args).out()).contains("total lag 0").containsPattern("vol-a\\s+" + partition + "\\s+0\\n");
            // A replayer that reads a peer's mirror beside the local topic: the lag says the mirror is not in it.
            Properties cfg = new Properties();
            cfg.setProperty("replayer.id", "r1");
            cfg.setProperty("replayer.kafka.bootstrap.servers", kafka.bootstrapServers());
            cfg.setProperty("replayer.topic.prefix", "lagit.");
            cfg.setProperty("replayer.group.id", "lag-it");
            cfg.setProperty("replayer.mirror.policy", "default");
            cfg.setProperty("replayer.mirror.peer.aliases", "site-a");
            cfg.setProperty("replayer.link.secret", "0123456789abcdef-secret");
            cfg.setProperty("replayer.nodes", "site-a,site-b");
            for (String n : new String[] {"site-a", "site-b"}) {
                cfg.setProperty("replayer.node." + n + ".link", "127.0.0.1:1");
                cfg.setProperty("replayer.node." + n + ".control", "127.0.0.1:2");
            }
            cfg.setProperty("replayer.volumes", "vol-a");
            cfg.setProperty("replayer.volume.vol-a.nodes", "site-a,site-b");
            java.nio.file.Path file = java.nio.file.Files.createTempFile("lagit-replayer", ".properties");
            try {
                BlockrepProcess.write(file, cfg);
                Run mirrored = lag("--config", file.toString());
                assertThat(mirrored.exit()).as(mirrored.out() + mirrored.err()).isZero();
                assertThat(mirrored.out()).contains("total lag 0").contains("also reads the mirrored site-a.lagit.dirty beside lagit.dirty");
            } finally {
                java.nio.file.Files.deleteIfExists(file);
            }
        }
    }

    @Test
    void anUnknownGroupIsAnErrorThatSaysSo(KafkaBroker kafka) {
        TopicLayout layout = new TopicLayout("nogroup.");
        layout.topicConfigs().forEach((name, configs) -> kafka.createTopic(name, PARTITIONS, configs));
        Run run = lag("--bootstrap-server", kafka.bootstrapServers(), "--group", "no-such-group", "--topic-prefix", "nogroup.");
        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(2);
        assertThat(run.err()).contains("no-such-group").contains("does not exist");
    }

    @Test
    void anUnreachableBrokerIsAnErrorThatSaysSo() {
        Run run = lag("--bootstrap-server", "127.0.0.1:" + FreePorts.find(), "--timeout", "2s");
        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(2);
        assertThat(run.err()).contains("did not answer within 2 s").contains("reachable");
    }

    @Test
    void withoutABootstrapServerItSaysWhatIsMissing() {
        Run run = lag();
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--bootstrap-server");
    }
}
