package io.blockrep.producer.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.dirty.DirtyTracker;
import io.blockrep.producer.dirty.ExcludedRanges;
import io.blockrep.producer.replication.ReplayReport;
import io.blockrep.testkit.FreePorts;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/volumes/<id>/replayed} over a real socket: the body form is parsed, a report the
 * facility's bitmaps do not confirm is answered 409 with the reason and drops nothing, and the old
 * {@code ?era=N} form is answered 400. The handler checks and drops with the real {@link ReplayReport}
 * and {@link DirtyTracker}; eras 1 (3 regions) and 2 (1 region) are pending, 3 is open.
 */
class ControlServerReplayedTest {
    private static final int REGION = 4096;

    @TempDir
    Path dir;
    private DirtyTracker tracker;
    private ControlServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    private final java.util.List<Object> progress = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol", null, 64L * REGION, REGION, Role.PRIMARY);
        tracker = DirtyTracker.open(store.volumeDir("vol"), meta, "site-a", ExcludedRanges.parse(""), 1);
        tracker.markWrite(0, 3L * REGION).toCompletableFuture().join();
        tracker.closeEra();
        tracker.markWrite(10L * REGION, 1).toCompletableFuture().join();
        tracker.closeEra();
        ControlHandler handler = (ControlHandler) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ControlHandler.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("regionsCopied")) {
                        progress.add(args[1]);
                        return null;
                    }
                    if (!method.getName().equals("erasReplayed")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    @SuppressWarnings("unchecked")
                    ReplayReport report = new ReplayReport((SortedMap<Long, Long>) args[1]);
                    synchronized (tracker) {
                        report.requireValid((String) args[0], tracker);
                        report.regionCountByEra().keySet().forEach(tracker::dropEra);
                    }
                    return null;
                });
        server = ControlServer.start(new HostPort("127.0.0.1", FreePorts.find()), handler);
    }

    @AfterEach
    void stop() {
        server.close();
        tracker.close();
    }

    private HttpResponse<String> post(String pathAndQuery, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aMatchingReportDropsExactlyTheNamedEras() throws Exception {
        HttpResponse<String> r = post("/v1/volumes/vol/replayed", "{\"eras\":[{\"era\":2,\"regions\":1,\"copied\":\"" + copied(10) + "\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"droppedEras\" : [ 2 ]");
        assertThat(tracker.pendingEras()).containsExactly(1L);
    }

    @Test
    void aPartialReportRecordsTheCopiedRegionsAndDropsNoEra() throws Exception {
        HttpResponse<String> r = post("/v1/volumes/vol/replayed",
                "{\"partial\":true,\"eras\":[{\"era\":1,\"regions\":2,\"copied\":\"" + copied(0, 1) + "\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body().replaceAll("\\s", "")).contains("\"droppedEras\":[]");
        assertThat(progress).hasSize(1);
        @SuppressWarnings("unchecked")
        java.util.Map<Long, org.roaringbitmap.RoaringBitmap> got = (java.util.Map<Long, org.roaringbitmap.RoaringBitmap>) progress.get(0);
        assertThat(got.get(1L).toArray()).containsExactly(0, 1);
        assertThat(tracker.pendingEras()).containsExactly(1L, 2L);
    }

    @Test
    void aReportTheBitmapsDoNotConfirmIsRefusedWith409AndDropsNothing() throws Exception {
        HttpResponse<String> wrongCount = post("/v1/volumes/vol/replayed",
                "{\"eras\":[{\"era\":1,\"regions\":2,\"copied\":\"" + copied(0, 1, 2) + "\"},{\"era\":2,\"regions\":1,\"copied\":\"" + copied(10) + "\"}]}");
        assertThat(wrongCount.statusCode()).isEqualTo(409);
        assertThat(wrongCount.body()).contains("nothing dropped")
                .contains("era 1: the report counts 2 region(s), this facility's bitmap of the era holds 3");

        HttpResponse<String> notPending = post("/v1/volumes/vol/replayed",
                "{\"eras\":[{\"era\":2,\"regions\":1,\"copied\":\"" + copied(10) + "\"},{\"era\":3,\"regions\":0,\"copied\":\"" + copied() + "\"}]}");
        assertThat(notPending.statusCode()).isEqualTo(409);
        assertThat(notPending.body()).contains("era 3 is not closed (the open era is 3)").contains("pending eras [1, 2]");
        assertThat(tracker.pendingEras()).containsExactly(1L, 2L);
    }

    @Test
    void theOldQueryFormAndMalformedBodiesAreAnswered400() throws Exception {
        HttpResponse<String> old = post("/v1/volumes/vol/replayed?era=2", "");
        assertThat(old.statusCode()).isEqualTo(400);
        assertThat(old.body()).contains("use the body form");
        for (String bad : new String[] {"", "{}", "{\"eras\":[]}", "{\"eras\":[{\"era\":1}]}", "{\"eras\":[{\"era\":0,\"regions\":0}]}",
                "{\"eras\":[{\"era\":1,\"regions\":-1}]}", "{\"eras\":[{\"era\":1.5,\"regions\":3}]}",
                "{\"eras\":[{\"era\":1,\"regions\":3},{\"era\":1,\"regions\":3}]}", "{\"eras\":[{\"era\":1,\"regions\":3}]}",
                "{\"eras\":[{\"era\":1,\"regions\":3,\"copied\":\"not base64!\"}]}"}) {
            HttpResponse<String> r = post("/v1/volumes/vol/replayed", bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.body()).as(bad).contains("body must be");
        }
        assertThat(tracker.pendingEras()).containsExactly(1L, 2L);
    }

    /** A region set as the replayer sends it: a RoaringBitmap's portable serialisation, base64. */
    private static String copied(int... regions) {
        org.roaringbitmap.RoaringBitmap r = org.roaringbitmap.RoaringBitmap.bitmapOf(regions);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(r.serializedSizeInBytes());
        r.serialize(buf);
        return java.util.Base64.getEncoder().encodeToString(buf.array());
    }
}
