package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.FreePorts;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12, deliver 2, on the packaged jar: a facility whose NBD acceptor hits an Error (here the direct
 * memory for a new connection's buffers runs out: the JVM runs with {@code -XX:MaxDirectMemorySize=4m}
 * and clients keep connections open) lived on with a dead accept thread, serving no new client ever
 * again. Now that connection is refused, the acceptor backs off and goes on, and once the other
 * clients are gone a new client is served: the process heals instead of living on half-dead.
 */
class NbdAcceptorHealIT {
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final Path JAR = Path.of("target", "blockrep.jar").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void aFacilityWhoseNbdAcceptorRanOutOfDirectMemoryServesNewClientsOnceMemoryIsBack() throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int nbd = FreePorts.find();
        Path config = BlockrepProcess.facilityConfig(dir, "site-a", "PRIMARY", 16L << 20, nbd, FreePorts.find(),
                "heal-test-secret-0123456789", Map.of());
        List<Socket> held = new ArrayList<>();
        try (ExternalCommand.Running facility = ExternalCommand.start(List.of(JAVA, "-XX:MaxDirectMemorySize=4m", "-jar", JAR.toString(),
                "producer", "--config", config.toString()))) {
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)),
                    () -> !facility.isAlive() || facility.stdout().contains("NBD on"), facility);
            assertThat(facility.isAlive()).as(facility.stderr()).isTrue();

            // Each open connection holds 512 KiB of direct buffers: hold connections until one cannot be admitted.
            for (int i = 0; i < 40 && !facility.stderr().contains("NBD accept failed"); i++) {
                Socket s = new Socket("127.0.0.1", nbd);
                held.add(s);
                greeted(s);
            }
            assertThat(facility.stderr()).as("a connection could not be admitted").contains("NBD accept failed").contains("OutOfMemoryError");
            assertThat(facility.isAlive()).isTrue();
            for (Socket s : held) {
                s.close();
            }

            String uri = "nbd://127.0.0.1:" + nbd + "/vol";
            BlockrepProcess.await(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)), () -> {
                ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(15), "qemu-io", "-f", "raw", uri,
                        "-c", "write -P 0x5a 0 64k", "-c", "read -P 0x5a 0 64k");
                return r.exitCode() == 0 && !r.stdout().contains("Pattern verification failed");
            }, facility);
            assertThat(facility.isAlive()).isTrue();
            assertThat(facility.stderr()).doesNotContain("fatal:");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** True when the server sent the NBD greeting's first bytes within 2 s; false when it closed the connection or said nothing. */
    private static boolean greeted(Socket s) throws IOException {
        s.setSoTimeout(2_000);
        InputStream in = s.getInputStream();
        try {
            return in.readNBytes(8).length == 8;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }
}
