package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void everyVerbHasHelp() {
        for (String verb : new String[] {"quickstart", "producer", "volume", "kafka"}) {
            Run r = run(verb, "--help");
            assertThat(r.exit()).as(verb).isZero();
            assertThat(r.out()).as(verb).contains("Usage: blockrep " + verb);
        }
        assertThat(run("volume", "create", "--help").out()).contains("--region-size");
        assertThat(run("--version").out()).startsWith("blockrep ");
    }

    @Test
    void unknownVerbOrOptionIsAUsageError() {
        Run r = run("frobnicate");
        assertThat(r.exit()).isEqualTo(64);
        assertThat(r.err()).contains("frobnicate");
        assertThat(run("producer").exit()).isEqualTo(64);
    }

    @Test
    void volumeCreateMakesASparseVolumeAndListsIt() throws IOException {
        Run r = run("volume", "create", "vol-a", "--state-dir", dir.toString(), "--size", "1G", "--region-size", "128K");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("created volume vol-a: 1G").contains("region size 128K");
        assertThat(Files.size(dir.resolve("volumes/vol-a/data.img"))).isEqualTo(1L << 30);
        assertThat(run("volume", "list", "--state-dir", dir.toString()).out()).contains("vol-a").contains("128K");
        Run again = run("volume", "create", "vol-a", "--state-dir", dir.toString(), "--size", "1G");
        assertThat(again.exit()).isEqualTo(64);
        assertThat(again.err()).contains("already exists");
    }

    private Path fileWithData(String name) throws IOException {
        Path file = dir.resolve(name);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.seek(300_000);
            f.write(new byte[] {1, 2, 3});
        }
        return file;
    }

    @Test
    void volumeCreateOverDataPlansAnInitialSyncUnlessAssumedClean() throws IOException {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                io.blockrep.common.volume.VolumeStore.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try {
            Run synced = run("volume", "create", "synced", "--state-dir", dir.toString(), "--size", "1M", "--node", "site-a",
                    "--path", fileWithData("synced.img").toString());
            assertThat(synced.exit()).as(synced.err()).isZero();
            assertThat(synced.out()).contains("holds data").contains("initial sync of every region that holds data");
            var store = new io.blockrep.common.volume.VolumeStore(dir);
            assertThat(store.load("synced").initialSync()).isEqualTo(io.blockrep.common.volume.InitialSync.PENDING);
            assertThat(store.load("synced").generations().current().nodeId()).isEqualTo("site-a");

            Run clean = run("volume", "create", "clean", "--state-dir", dir.toString(), "--size", "1M", "--assume-clean",
                    "--path", fileWithData("clean.img").toString());
            assertThat(clean.exit()).as(clean.err()).isZero();
            assertThat(clean.out()).contains("assumed clean: no initial sync");
            assertThat(store.load("clean").initialSync()).isEqualTo(io.blockrep.common.volume.InitialSync.NONE);
            assertThat(store.load("clean").generations()).isEqualTo(io.blockrep.common.volume.GenerationHistory.created());
            assertThat(logged.list).extracting(e -> e.getFormattedMessage())
                    .anySatisfy(m -> assertThat(m).contains("volume clean: created with assume-clean"));
        } finally {
            log.detachAppender(logged);
        }
    }

    @Test
    void volumeCreateListsEveryBadArgument() {
        Run r = run("volume", "create", "vol-b", "--state-dir", dir.toString(), "--size", "ten", "--region-size", "big");
        assertThat(r.exit()).isEqualTo(64);
        assertThat(r.err()).contains("2 problems").contains("--size").contains("--region-size");
        Run geometry = run("volume", "create", "Bad", "--state-dir", dir.toString(), "--size", "1000", "--region-size", "3K");
        assertThat(geometry.exit()).isEqualTo(64);
        assertThat(geometry.err()).contains("3 problems");
        assertThat(dir.resolve("volumes")).doesNotExist();
    }

    @Test
    void producerCheckReportsEveryConfigProblemWithExit78() throws IOException {
        Path cfg = dir.resolve("bad.properties");
        Files.writeString(cfg, "producer.node.id=Site A\nproducer.volumes=v1\nproducer.volume.v1.size=12Q\nproducer.nbd.lissen=1\n");
        Run r = run("producer", "--config", cfg.toString(), "--check");
        assertThat(r.exit()).isEqualTo(78);
        assertThat(r.err()).contains("4 problems").contains("producer.node.id").contains("producer.state.dir")
                .contains("producer.volume.v1.size").contains("did you mean 'producer.nbd.listen'");

        Path good = dir.resolve("good.properties");
        Files.writeString(good, "producer.node.id=site-a\nproducer.state.dir=" + dir + "\nproducer.volumes=v1\nproducer.volume.v1.size=1G\n");
        Run ok = run("producer", "--config", good.toString(), "--check");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("configuration is valid");
    }

    @Test
    void missingConfigFileIsAClearError() {
        Run r = run("producer", "--config", dir.resolve("nope.properties").toString());
        assertThat(r.exit()).isEqualTo(74);
        assertThat(r.err()).contains("cannot read configuration").contains("nope.properties");
    }
}
