package io.blockrep.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** Runs a sample test class through the JUnit launcher and checks its broker is gone afterwards. */
class KafkaBrokerLifecycleIT {

    @Test
    void closesTheBrokerWhenTheTestClassIsDone() {
        Sample.seen = null;
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(Sample.class)).build(), listener);
        TestExecutionSummary summary = listener.getSummary();

        assertThat(summary.getFailures()).isEmpty();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
        assertThat(Sample.seen).isNotNull();
        assertThat(Sample.seen.isRunning()).isFalse();
        String[] hostPort = Sample.seenAddress.split(":");
        assertThat(canConnect(hostPort[0], Integer.parseInt(hostPort[1]))).isFalse();
    }

    private static boolean canConnect(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Not discovered by failsafe itself (a static nested class); run only through the launcher above. */
    @ExtendWith(KafkaBrokerExtension.class)
    static class Sample {
        static volatile KafkaBroker seen;
        static volatile String seenAddress;

        @Test
        void first(KafkaBroker kafka) {
            remember(kafka);
        }

        @Test
        void second(KafkaBroker kafka) {
            remember(kafka);
        }

        private static synchronized void remember(KafkaBroker kafka) {
            assertThat(kafka.isRunning()).isTrue();
            if (seen != null) {
                assertThat(kafka).isSameAs(seen);
            }
            seen = kafka;
            seenAddress = kafka.bootstrapServers();
        }
    }
}
