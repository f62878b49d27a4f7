package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.cli.quickstart.QuickstartConfigs;
import io.blockrep.common.Sizes;
import io.blockrep.common.config.ConfigDef;
import io.blockrep.producer.ProducerConfig;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.testkit.kafka.MirrorMaker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code quickstart --no-autosync} and {@code --write-configs}: the options, the files, and BLOCKREP_* overrides. */
class QuickstartConfigsTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    private static Run quickstart(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "quickstart";
        System.arraycopy(args, 0, all, 1, args.length);
        int exit = cl.execute(all);
        return new Run(exit, out.toString(), err.toString());
    }

    private List<Path> files(Path configs) {
        return List.of(configs.resolve("site-b.properties"), configs.resolve("site-a.properties"), configs.resolve("replayer.properties"));
    }

    @Test
    void optionsParse() {
        QuickstartCommand defaults = new QuickstartCommand();
        new CommandLine(defaults).parseArgs();
        assertThat(defaults.autosync).isTrue();
        assertThat(defaults.writeConfigs).isNull();

        QuickstartCommand c = new QuickstartCommand();
        new CommandLine(c).parseArgs("--no-autosync", "--write-configs", "conf", "--no-link-tls", "--control-port", "20011");
        assertThat(c.autosync).isFalse();
        assertThat(c.writeConfigs).isEqualTo(Path.of("conf"));
        assertThat(c.linkTls).isFalse();
        assertThat(c.controlPort).isEqualTo(20011);
    }

    @Test
    void writtenConfigsPassConfigCheckAndNothingIsStarted() throws IOException {
        Path base = dir.resolve("qs");
        Path configs = dir.resolve("configs");
        Run r = quickstart("--dir", base.toString(), "--write-configs", configs.toString(), "--kafka-port", "29092",
                "--nbd-port", "20809", "--control-port", "20811", "--volume-size", "64M");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        for (Path f : files(configs)) {
            assertThat(f).exists();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(f + " holds the link secret").isEqualTo("rw-------");
            assertThat(r.out()).contains((f.getFileName().toString().startsWith("replayer") ? "bin/blockrep replayer --config " : "bin/blockrep producer --config ") + f);
        }
        assertThat(r.out()).contains("bin/blockrep kafka --dir " + base.resolve("kafka") + " --port 29092")
                .doesNotContain("Press Ctrl-C");
        assertThat(base.resolve("kafka")).as("no broker was started").doesNotExist();

        ConfigCommandTest.Run check = ConfigCommandTest.run(Map.of(), "config", "check",
                files(configs).get(0).toString(), files(configs).get(1).toString(), files(configs).get(2).toString());
        assertThat(check.exit()).as(check.out() + check.err()).isZero();

        Properties a = ConfigDef.readFile(configs.resolve("site-a.properties"));
        assertThat(a.getProperty("producer.volume.demo.role")).isEqualTo("PRIMARY");
        assertThat(a.getProperty("producer.control.listen")).isEqualTo("127.0.0.1:20811");
        assertThat(a.getProperty("producer.kafka.bootstrap.servers")).isEqualTo("127.0.0.1:29092");
        assertThat(a.getProperty("producer.link.tls.keystore")).as("link TLS is on by default").endsWith("site-a.p12");
        assertThat(a).doesNotContainKey("producer.autosync");
        Properties b = ConfigDef.readFile(configs.resolve("site-b.properties"));
        assertThat(b.getProperty("producer.volume.demo.role")).isEqualTo("SECONDARY");
        assertThat(b.getProperty("producer.link.peer")).isEqualTo(a.getProperty("producer.link.listen"));
        assertThat(a.getProperty("producer.link.peer")).isEqualTo(b.getProperty("producer.link.listen"));
        Properties replayer = ConfigDef.readFile(configs.resolve("replayer.properties"));
        assertThat(replayer.getProperty("replayer.node.site-a.link")).isEqualTo(a.getProperty("producer.link.listen"));
        assertThat(replayer.getProperty("replayer.node.site-b.control")).isEqualTo(b.getProperty("producer.control.listen"));
        assertThat(replayer.getProperty("replayer.link.secret")).isEqualTo(a.getProperty("producer.link.secret"));
    }

    @Test
    void twoClustersPointTheSitesAtTheirOwnClusterAndTheReplayerAtSiteBsMirror() {
        Path configs = dir.resolve("configs");
        Run r = quickstart("--dir", dir.resolve("qs").toString(), "--write-configs", configs.toString(), "--two-clusters",
                "--kafka-port", "29092", "--no-link-tls");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        ConfigCommandTest.Run check = ConfigCommandTest.run(Map.of(), "config", "check",
                files(configs).get(0).toString(), files(configs).get(1).toString(), files(configs).get(2).toString());
        assertThat(check.exit()).as(check.out() + check.err()).isZero();

        Properties a = ConfigDef.readFile(configs.resolve("site-a.properties"));
        Properties b = ConfigDef.readFile(configs.resolve("site-b.properties"));
        assertThat(a.getProperty("producer.kafka.bootstrap.servers")).isEqualTo("127.0.0.1:29092");
        assertThat(b.getProperty("producer.kafka.bootstrap.servers")).isEqualTo("127.0.0.1:29102");
        ReplayerConfig replayer = ReplayerConfig.from(ConfigDef.readFile(configs.resolve("replayer.properties")), Map.of());
        assertThat(replayer.bootstrapServers()).as("the replayer runs against site-b's cluster").isEqualTo("127.0.0.1:29102");
        assertThat(replayer.mirror().policy()).isEqualTo("default");
        assertThat(replayer.mirror().peerAliases()).containsExactly("site-a");

        Path mm2File = configs.resolve(QuickstartConfigs.MM2_FILE);
        Properties mm2 = ConfigDef.readFile(mm2File);
        assertThat(mm2.getProperty("site-a.bootstrap.servers")).isEqualTo("127.0.0.1:29092");
        assertThat(mm2.getProperty("site-b.bootstrap.servers")).isEqualTo("127.0.0.1:29102");
        assertThat(mm2.getProperty("plugin.discovery")).isEqualTo("service_load");
        assertThat(mm2.getProperty("replication.factor")).as("one-broker clusters").isEqualTo("1");
        Properties deployed = ConfigDef.readFile(MirrorMaker.repositoryRoot().resolve(MirrorMaker.CONFIG_FILE));
        assertThat(mm2.getProperty("topics")).as("the rest is connect-config/mm2.properties").isEqualTo(deployed.getProperty("topics"));
        assertThat(mm2.getProperty("replication.policy.class")).isEqualTo(deployed.getProperty("replication.policy.class"));
        assertThat(r.out()).contains("connect-mirror-maker.sh " + mm2File)
                .contains("bin/blockrep kafka --dir " + dir.resolve("qs").toAbsolutePath().resolve("kafka-site-b") + " --port 29102");
    }

    @Test
    void oneClusterWritesNoMirrorMakerFileAndNoMirrorKeys() {
        Path configs = dir.resolve("configs");
        assertThat(quickstart("--dir", dir.resolve("qs").toString(), "--write-configs", configs.toString(), "--no-link-tls").exit()).isZero();
        assertThat(configs.resolve(QuickstartConfigs.MM2_FILE)).doesNotExist();
        assertThat(ConfigDef.readFile(configs.resolve("replayer.properties"))).doesNotContainKey("replayer.mirror.policy");
    }

    @Test
    void noAutosyncSetsTheKeyOnBothSitesAndTheFilesStillCheckClean() {
        Path configs = dir.resolve("configs");
        Run r = quickstart("--dir", dir.resolve("qs").toString(), "--write-configs", configs.toString(), "--no-autosync", "--no-link-tls");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        for (String site : List.of("site-a", "site-b")) {
            Properties p = ConfigDef.readFile(configs.resolve(site + ".properties"));
            assertThat(p.getProperty("producer.autosync")).as(site).isEqualTo("false");
            assertThat(p).as("--no-link-tls").doesNotContainKey("producer.link.tls.keystore");
            assertThat(ProducerConfig.from(p, Map.of()).resync().autosync()).isFalse();
        }
        ConfigCommandTest.Run check = ConfigCommandTest.run(Map.of(), "config", "check",
                files(configs).get(0).toString(), files(configs).get(1).toString(), files(configs).get(2).toString());
        assertThat(check.exit()).as(check.out() + check.err()).isZero();
    }

    /** The quickstart turns its settings into service configs with its environment, as the services do with a file. */
    @Test
    void blockrepEnvironmentOverridesApplyToTheQuickstartsConfigs() {
        QuickstartCommand c = new QuickstartCommand();
        new CommandLine(c).parseArgs("--dir", dir.resolve("qs").toString(), "--no-link-tls");
        c.environment = Map.of("BLOCKREP_PRODUCER_AUTOSYNC", "false", "BLOCKREP_PRODUCER_LINK_RESTORE_DAMPING", "1s",
                "BLOCKREP_REPLAYER_RATE", "10M");
        QuickstartConfigs configs = c.configs(dir.resolve("qs").toAbsolutePath(), QuickstartConfigs.Clusters.one("127.0.0.1:19092"));

        ProducerConfig a = c.serviceConfig(configs.siteA());
        assertThat(a.resync().autosync()).as("BLOCKREP_PRODUCER_AUTOSYNC=false").isFalse();
        assertThat(a.link().restoreDamping()).isEqualTo(java.time.Duration.ofSeconds(1));
        assertThat(c.serviceConfig(configs.siteB()).resync().autosync()).isFalse();
        ReplayerConfig replayer = c.replayerConfig(configs.replayer());
        assertThat(replayer.rateBytesPerSecond()).isEqualTo(Sizes.parse("10M"));

        c.environment = Map.of();
        assertThat(c.serviceConfig(configs.siteA()).resync().autosync()).as("the default").isTrue();
        assertThat(c.serviceConfig(configs.siteA()).link().restoreDamping()).isEqualTo(java.time.Duration.ofSeconds(3));
    }

    @Test
    void theEnvironmentAppliesToTheWrittenFilesWhenTheyAreChecked() {
        Path configs = dir.resolve("configs");
        assertThat(quickstart("--dir", dir.resolve("qs").toString(), "--write-configs", configs.toString(), "--no-link-tls").exit()).isZero();
        ConfigCommandTest.Run check = ConfigCommandTest.run(Map.of("BLOCKREP_PRODUCER_AUTOSYNC", "maybe"), "config", "check",
                configs.resolve("site-a.properties").toString());
        assertThat(check.exit()).isEqualTo(1);
        assertThat(check.out()).contains("producer.autosync");
    }
}
