package io.blockrep.replayer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.replayer.ReplayerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** replay and verify take as source the one node whose control API says PRIMARY for the volume. */
class CurrentPrimaryTest {
    private final List<HttpServer> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    /** A control API answering GET /v1/status with {@code vol} in {@code role}; returns its port. */
    private int facility(String role) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/status", ex -> {
            byte[] body = ("{\"volumes\":[{\"volume\":\"vol\",\"role\":\"" + role + "\",\"mode\":\"REPLICATING\",\"size\":1048576,"
                    + "\"regionSize\":65536}]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    private static ReplayerConfig config(int controlA, int controlB) {
        Properties p = new Properties();
        p.setProperty("replayer.id", "r1");
        p.setProperty("replayer.kafka.bootstrap.servers", "127.0.0.1:9092");
        p.setProperty("replayer.link.secret", "0123456789abcdef-secret");
        p.setProperty("replayer.nodes", "site-a,site-b");
        p.setProperty("replayer.node.site-a.link", "127.0.0.1:1");
        p.setProperty("replayer.node.site-a.control", "127.0.0.1:" + controlA);
        p.setProperty("replayer.node.site-b.link", "127.0.0.1:2");
        p.setProperty("replayer.node.site-b.control", "127.0.0.1:" + controlB);
        p.setProperty("replayer.volumes", "vol");
        p.setProperty("replayer.volume.vol.nodes", "site-a,site-b");
        return ReplayerConfig.from(p, Map.of());
    }

    @Test
    void theNodeThatClaimsPrimaryIsTheSourceWhicheverItIs() throws IOException {
        CurrentPrimary b = CurrentPrimary.find(config(facility("SECONDARY"), facility("PRIMARY")), "vol");
        assertThat(b.primary().id()).isEqualTo("site-b");
        assertThat(b.peer().id()).isEqualTo("site-a");
        assertThat(b.status().path("regionSize").asInt()).isEqualTo(65536);
        assertThat(CurrentPrimary.find(config(facility("PRIMARY"), facility("SECONDARY")), "vol").primary().id()).isEqualTo("site-a");
    }

    @Test
    void neitherOrBothClaimingPrimaryIsAClearError() throws IOException {
        assertThatThrownBy(() -> CurrentPrimary.find(config(facility("SECONDARY"), facility("SECONDARY")), "vol"))
                .isInstanceOf(RetriableException.class).hasMessageContaining("no node claims PRIMARY for 'vol'")
                .hasMessageContaining("site-a is SECONDARY").hasMessageContaining("site-b is SECONDARY");
        assertThatThrownBy(() -> CurrentPrimary.find(config(facility("PRIMARY"), facility("PRIMARY")), "vol"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("both nodes claim PRIMARY for 'vol'");
    }

    @Test
    void anUnreachableNodeIsNamedInTheError() throws IOException {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        assertThatThrownBy(() -> CurrentPrimary.find(config(closed, facility("SECONDARY")), "vol"))
                .isInstanceOf(RetriableException.class).hasMessageContaining("site-a did not answer");
        assertThat(CurrentPrimary.find(config(closed, facility("PRIMARY")), "vol").primary().id()).isEqualTo("site-b");
    }
}
