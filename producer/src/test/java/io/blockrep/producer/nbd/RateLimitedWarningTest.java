package io.blockrep.producer.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedWarningTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final Logger log = (Logger) LoggerFactory.getLogger("test.rate-limited");
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final RateLimitedWarning warning = new RateLimitedWarning(log, Duration.ofSeconds(60), now::get);

    RateLimitedWarningTest() {
        events.start();
        log.addAppender(events);
    }

    @Test
    void logsTheFirstOccurrenceOfEachIntervalWithTheCountSuppressedSinceTheLast() {
        assertThat(warning.warn("refused {}", "a")).isTrue();
        for (int i = 0; i < 100; i++) {
            now.addAndGet(Duration.ofMillis(500).toNanos());
            assertThat(warning.warn("refused {}", "b" + i)).isFalse();
        }
        now.addAndGet(Duration.ofSeconds(11).toNanos());
        assertThat(warning.warn("refused {}", "c")).isTrue();

        assertThat(events.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "refused a; this warning is logged at most once every 60 s",
                "refused c (100 more since the last warning); this warning is logged at most once every 60 s");
    }
}
