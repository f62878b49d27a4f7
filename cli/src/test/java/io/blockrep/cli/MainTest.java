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
