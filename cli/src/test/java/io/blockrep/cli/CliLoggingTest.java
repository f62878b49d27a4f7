package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;

class CliLoggingTest {
    @Test
    void blockrepLogsAtInfoEverythingElseAtWarnAllToStderr() {
        LoggerContext context = new LoggerContext();
        CliLogging.setUp(context);
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.WARN);
        assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getTarget()).isEqualTo("System.err"));
        assertThat(context.getLogger("io.blockrep.producer.Facility").getEffectiveLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("org.apache.kafka.clients.NetworkClient").getEffectiveLevel()).isEqualTo(Level.WARN);
        context.stop();
    }

    @Test
    void aLogbackTestFileOnTheClassPathTakesOver() {
        assertThat(new CliLogging().configure(new LoggerContext())).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    }

    @Test
    void isFoundAsALogbackConfiguratorService() {
        assertThat(java.util.ServiceLoader.load(Configurator.class).stream().map(p -> p.type().getName()))
                .contains(CliLogging.class.getName());
    }
}
