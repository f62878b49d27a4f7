package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class StatusAppCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new String[] {Integer.toString(exit), out.toString(), err.toString()};
    }

    @Test
    void needsExactlyOneOfConfigAndBootstrapServer() {
        String[] none = run("status-app");
        assertThat(none[0]).isNotEqualTo("0");
        assertThat(none[2]).contains("exactly one of --config=FILE and --bootstrap-server");
        String[] both = run("status-app", "--config", "x.properties", "--bootstrap-server", "127.0.0.1:9092");
        assertThat(both[0]).isNotEqualTo("0");
        assertThat(both[2]).contains("exactly one of");
    }

    @Test
    void aBadListenAddressOrPrefixIsAUsageError() {
        String[] listen = run("status-app", "--bootstrap-server", "127.0.0.1:9092", "--listen", "nowhere");
        assertThat(listen[0]).isNotEqualTo("0");
        assertThat(listen[2]).contains("is not host:port");
        String[] prefix = run("status-app", "--bootstrap-server", "127.0.0.1:9092", "--topic-prefix", "bad prefix!");
        assertThat(prefix[0]).isNotEqualTo("0");
        assertThat(prefix[2]).contains("topic prefix");
    }

    @Test
    void statusNamesTheBootstrapServerOptionInItsHelp() {
        assertThat(run("status", "--help")[1]).contains("--bootstrap-server").contains("--topic-prefix");
        assertThat(run("status-app", "--help")[1]).contains("--listen").contains("--state-dir");
    }
}
