package io.blockrep.replayer.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.replayer.ReplayerConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code replayer.verify.interval} and {@code replayer.verify.rate}: their defaults, off, and what is refused. */
class VerifyConfigTest {
    private static Properties minimal() {
        Properties p = new Properties();
        p.setProperty("replayer.id", "r1");
        p.setProperty("replayer.kafka.bootstrap.servers", "127.0.0.1:9092");
        p.setProperty("replayer.link.secret", "0123456789abcdef-secret");
        p.setProperty("replayer.nodes", "site-a,site-b");
        for (String n : new String[] {"site-a", "site-b"}) {
            p.setProperty("replayer.node." + n + ".link", n + ".example:10810");
            p.setProperty("replayer.node." + n + ".control", n + ".example:10811");
        }
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a,site-b");
        return p;
    }

    @Test
    void dailyAt50MiBPerSecondByDefault() {
        ReplayerConfig c = ReplayerConfig.from(minimal(), Map.of());
        assertThat(c.verifyInterval()).isEqualTo(Duration.ofHours(24));
        assertThat(c.verifyRateBytesPerSecond()).isEqualTo(50L << 20);
    }

    @Test
    void zeroTurnsItOffAndTheRateIsSetApartFromTheResyncRate() {
        Properties p = minimal();
        p.setProperty("replayer.verify.interval", "0s");
        p.setProperty("replayer.verify.rate", "5M");
        p.setProperty("replayer.rate", "1G");
        ReplayerConfig c = ReplayerConfig.from(p, Map.of());
        assertThat(c.verifyInterval()).isZero();
        assertThat(c.verifyRateBytesPerSecond()).isEqualTo(5L << 20);
        assertThat(c.rateBytesPerSecond()).isEqualTo(1L << 30);
    }

    @Test
    void aNegativeIntervalAndABadRateAreBothReported() {
        Properties p = minimal();
        p.setProperty("replayer.verify.interval", "-1h");
        p.setProperty("replayer.verify.rate", "-5");
        assertThatThrownBy(() -> ReplayerConfig.from(p, Map.of())).isInstanceOfSatisfying(InvalidInputException.class,
                e -> assertThat(e.problems()).anyMatch(x -> x.startsWith("replayer.verify.interval:"))
                        .anyMatch(x -> x.startsWith("replayer.verify.rate:")));
    }
}
