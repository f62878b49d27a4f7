package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KafkaCommandIT {
    @TempDir
    Path dir;

    @Test
    void printsTheBootstrapAddressAndStopsCleanlyWithExitCode0() throws Exception {
        StringWriter out = new StringWriter();
        KafkaCommand command = new KafkaCommand();
        CommandLine cli = new CommandLine(command).setOut(new PrintWriter(out, true));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(
                () -> cli.execute("--dir", dir.toString(), "--port", "0"));
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> out.toString().contains("Press Ctrl-C"));
            assertThat(out.toString()).containsPattern("bootstrap.servers = 127\\.0\\.0\\.1:\\d+");
        } finally {
            command.requestStop();
        }
        assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
        assertThat(out.toString()).contains("Kafka stopped.");
    }
}
