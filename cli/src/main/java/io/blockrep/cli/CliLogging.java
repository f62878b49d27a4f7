package io.blockrep.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The logging setup of the {@code blockrep} command, in code: parsing a {@code logback.xml} costs a
 * short-lived verb such as {@code link restore} a good part of its start (an XML parser and Joran's
 * model), and those verbs are on the operator's critical path (and bench/resync.sh's). Found by
 * logback through {@code META-INF/services}.
 *
 * <p>Logs go to stderr, so that stdout stays clean for command output and {@code --json}; blockrep
 * logs at {@code BLOCKREP_LOG_LEVEL} (system property or environment variable; default INFO), Kafka
 * and everything else at WARN. {@code -Dlogback.configurationFile=...} or a {@code logback-test.xml}
 * on the class path take over as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class CliLogging extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY) != null
                || CliLogging.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        setUp(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    static void setUp(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr);
        context.getLogger("io.blockrep").setLevel(Level.toLevel(blockrepLevel(), Level.INFO));
        for (String noisy : new String[] {"org.apache.kafka", "kafka", "state.change.logger", "org.apache.zookeeper"}) {
            context.getLogger(noisy).setLevel(Level.WARN);
        }
    }

    private static String blockrepLevel() {
        String level = System.getProperty("BLOCKREP_LOG_LEVEL");
        return level != null ? level : System.getenv("BLOCKREP_LOG_LEVEL");
    }
}
