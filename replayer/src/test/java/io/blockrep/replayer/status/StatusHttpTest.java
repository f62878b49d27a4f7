package io.blockrep.replayer.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.config.HostPort;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatusHttpTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final TopicLayout layout = TopicLayout.defaults();
    private TopologyTestDriver driver;
    private volatile boolean ready = true;
    private StatusHttp http;

    @BeforeEach
    void start() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "status-http-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(StatusTopology.build(StatusTopics.of(layout), StatusCodecs.defaults(), new AtomicLong()), p);
        TestInputTopic<byte[], byte[]> dirty = driver.createInputTopic(layout.dirty(), new ByteArraySerializer(), new ByteArraySerializer());
        for (String volume : new String[] {"vol-a", "vol-b"}) {
            dirty.pipeInput(DirtyKey.region(volume, "site-a", 1, 3).bytes(), Codecs.DIRTY_REGION.encode(DirtyRegion.newBuilder()
                    .setFirstWriteMillis(1_000).setRegionSize(4096).setVolumeSize(1L << 20).setCause(DirtyCause.LOGGED_WRITE).build()));
        }
        ReadOnlyKeyValueStore<String, VolumeStatus> store = driver.getKeyValueStore(StatusTopology.statusStore());
        http = StatusHttp.start(new HostPort("127.0.0.1", 0), () -> {
            if (!ready) {
                throw new InvalidStateStoreException("rebalancing");
            }
            return store;
        });
    }

    @AfterEach
    void stop() {
        http.close();
        driver.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + http.address() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void answersEveryVolumeAndOneVolumeFromTheStore() throws Exception {
        assertThat(http.address().host()).isEqualTo("127.0.0.1");
        HttpResponse<String> all = get("/v1/status");
        assertThat(all.statusCode()).isEqualTo(200);
        JsonNode array = StatusJson.MAPPER.readTree(all.body());
        assertThat(array).hasSize(2);
        assertThat(array.get(0).path("volume").asText()).isEqualTo("vol-a");

        HttpResponse<String> one = get("/v1/status/vol-b");
        assertThat(one.statusCode()).isEqualTo(200);
        VolumeStatus s = StatusJson.read(one.body().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(s.volume).isEqualTo("vol-b");
        assertThat(s.nodes.get("site-a").dirtyBytes).isEqualTo(4096);
    }

    @Test
    void unknownVolumesPathsAndMethodsAndAStoreThatIsNotReadyAreClearErrors() throws Exception {
        assertThat(get("/v1/status/nope").statusCode()).isEqualTo(404);
        assertThat(get("/v1/status/nope").body()).contains("no status for volume 'nope'");
        assertThat(get("/v2/other").statusCode()).isEqualTo(404);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + http.address() + "/v1/status"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        ready = false;
        HttpResponse<String> notReady = get("/v1/status");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("not ready");
    }
}
