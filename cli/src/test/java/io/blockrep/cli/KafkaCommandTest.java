package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Paths that fail before a broker is started, so they stay fast. */
class KafkaCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return new CommandLine(new KafkaCommand())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
    }

    @Test
    void busyPortExitsWith75AndSaysWhichPort() throws Exception {
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int code = run("--dir", dir.resolve("k").toString(), "--port", Integer.toString(squatter.getLocalPort()),
                    "--controller-port", "0");
            assertThat(code).isEqualTo(75);
            assertThat(err.toString()).contains("127.0.0.1:" + squatter.getLocalPort()).contains("already in use");
            assertThat(Files.exists(dir.resolve("k").resolve("meta.properties"))).isFalse();
        }
    }

    @Test
    void badPortsExitWith64AndListEveryProblem() {
        assertThat(run("--dir", dir.toString(), "--port", "70000", "--controller-port", "-1")).isEqualTo(64);
        assertThat(err.toString()).contains("--port must be").contains("--controller-port must be");
    }

    @Test
    void helpDescribesTheOptions() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("--dir", "./run/kafka", "--port", "9092", "--controller-port", "--host",
                "127.0.0.1");
    }
}
