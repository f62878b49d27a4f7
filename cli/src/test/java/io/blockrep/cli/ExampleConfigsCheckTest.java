package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example configurations in the repository pass {@code blockrep config check}: the README's
 * {@code cat > FILE <<'CONF'} files (with the secret its text says to export) and the facility and
 * replayer files the bench scripts generate ({@code bench/lib.sh}, {@code bench/nbd-fio.sh}). The
 * quickstart builds its settings in code and parses them with the same validator at every run.
 */
class ExampleConfigsCheckTest {
    private static final Path ROOT = Path.of("..");
    private static final Pattern HEREDOC = Pattern.compile("cat > (\\S+) <<'CONF'\\n(.*?)\\nCONF\\n", Pattern.DOTALL);

    @TempDir
    Path dir;

    private static ConfigCommandTest.Run check(Map<String, String> env, Path... files) {
        List<String> args = new ArrayList<>(List.of("config", "check"));
        for (Path f : files) {
            args.add(f.toString());
        }
        return ConfigCommandTest.run(env, args.toArray(String[]::new));
    }

    @Test
    void theReadmesExampleFilesPass() throws IOException {
        Matcher m = HEREDOC.matcher(Files.readString(ROOT.resolve("README.md")));
        List<Path> files = new ArrayList<>();
        while (m.find()) {
            files.add(Files.writeString(dir.resolve(m.group(1)), m.group(2) + "\n"));
        }
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("site-a.properties", "replayer.properties");
        Map<String, String> env = Map.of("BLOCKREP_PRODUCER_LINK_SECRET", ConfigCommandTest.SECRET,
                "BLOCKREP_REPLAYER_LINK_SECRET", ConfigCommandTest.SECRET);
        ConfigCommandTest.Run r = check(env, files.toArray(Path[]::new));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
    }

    @Test
    void theBenchScriptsGeneratedFilesPass() throws IOException, InterruptedException {
        String script = """
                set -e
                source bench/lib.sh
                SECRET=%s SIZE=256M KAFKA=9092 LINK_A=10810 CTL_A=10811 LINK_B=10820 CTL_B=10821
                site_config site-a 10809 10811 10810 10820 PRIMARY > "$OUT/site-a.properties"
                site_config site-b 10819 10821 10820 "" SECONDARY > "$OUT/site-b.properties"
                replayer_config bench-replayer > "$OUT/replayer.properties"
                BR_PORT=10900
                eval "$(sed -n '/^cat > "$OUT\\/producer.properties" <<CONF$/,/^CONF$/p' bench/nbd-fio.sh)"
                """.formatted(ConfigCommandTest.SECRET);
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("bash.log").toFile());
        pb.environment().put("OUT", dir.toString());
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("bash.log"), StandardCharsets.UTF_8)).isZero();
        ConfigCommandTest.Run r = check(Map.of(), dir.resolve("site-a.properties"), dir.resolve("site-b.properties"),
                dir.resolve("replayer.properties"), dir.resolve("producer.properties"));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("site-b.properties (producer): ok").contains("replayer.properties (replayer): ok")
                .contains("producer.properties (producer): ok");
    }
}
