package io.blockrep.producer.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.HostPort;
import io.blockrep.testkit.FreePorts;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/volumes/<id>/verified} over a real socket: a verifier's result reaches the handler as
 * a {@link VolumeStatus.VerifyResult}, a malformed body is answered 400, and the result's summary is the
 * line status shows.
 */
class ControlServerVerifiedTest {
    private final List<Object[]> calls = new ArrayList<>();
    private ControlServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        ControlHandler handler = (ControlHandler) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ControlHandler.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("verified")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    calls.add(args);
                    return null;
                });
        server = ControlServer.start(new HostPort("127.0.0.1", FreePorts.find()), handler);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aVerifyResultReachesTheHandler() throws Exception {
        HttpResponse<String> r = post("/v1/volumes/vol/verified",
                "{\"finishedMillis\":1764659704000,\"regionsChecked\":1024,\"regionsDiffering\":2,\"durationMillis\":463,\"by\":\"rv\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(calls).singleElement().satisfies(args -> {
            assertThat(args[0]).isEqualTo("vol");
            assertThat(args[1]).isEqualTo(new VolumeStatus.VerifyResult(1764659704000L, 1024, 2, 463, "rv"));
        });
        assertThat(((VolumeStatus.VerifyResult) calls.get(0)[1]).summary())
                .isEqualTo("last verified at 2025-12-02T07:15:04Z, 2 regions differed");
        assertThat(new VolumeStatus.VerifyResult(0, 1, 1, 0, "r").summary()).endsWith(", 1 region differed");
    }

    @Test
    void aMalformedBodyIsAnswered400() throws Exception {
        HttpResponse<String> r = post("/v1/volumes/vol/verified", "not json");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("VerifyResult");
        assertThat(calls).isEmpty();
    }
}
