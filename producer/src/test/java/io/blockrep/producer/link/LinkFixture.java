package io.blockrep.producer.link;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Volumes in a temp directory, exposed to a {@link LinkServer} with roles a test can change. */
final class LinkFixture implements AutoCloseable, LinkVolumes {
    static final SharedSecret SECRET = SharedSecret.of("link-test-secret-0123456789");
    static final long SIZE = 4L << 20;
    static final int REGION = 64 * 1024;

    final VolumeStore store;
    final Map<String, Entry> entries = new ConcurrentHashMap<>();

    LinkFixture(Path dir) {
        this.store = new VolumeStore(dir);
    }

    Volume volume(String id, Role role) {
        return volume(id, role, null);
    }

    /** A volume whose backing file is {@code data} (null: the default under the state directory). */
    Volume volume(String id, Role role, Path data) {
        VolumeMetadata meta = store.create(id, data, SIZE, REGION, role);
        Volume v = Volume.open(meta, false);
        entries.put(id, new Entry(v, role, store.volumeDir(id)));
        return v;
    }

    void setRole(String id, Role role) {
        entries.computeIfPresent(id, (k, e) -> new Entry(e.volume(), role, e.volumeDir()));
    }

    /** Bytes of data sets applied, as the link server reported them. */
    final java.util.concurrent.atomic.AtomicLong applied = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public void dataSetApplied(String volumeId, long bytes) {
        applied.addAndGet(bytes);
    }

    @Override
    public Optional<Entry> find(String volumeId) {
        return Optional.ofNullable(entries.get(volumeId));
    }

    static VolumeInfo primaryInfo(String id) {
        return new VolumeInfo(id, SIZE, REGION, Role.PRIMARY, List.of());
    }

    /**
     * Link timings for tests that fail the secondary side, not the network: site-a to 127.0.0.1:{@code port},
     * ack timeout 5 s, heartbeat 100 ms (5 missed), connect timeout 500 ms, backoff 10..100 ms, damping 100 ms.
     */
    static LinkConfig quickConfig(int port) {
        return new LinkConfig("site-a", new HostPort("127.0.0.1", port), SECRET, Duration.ofSeconds(5), Duration.ofMillis(100), 5,
                Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(100), 64L << 20);
    }

    /**
     * {@code writes} random writes (seeded, 512 B..128 KiB, every tenth or so with FUA) to {@code source} and
     * through {@code link} to volume {@code id}, then a flush of both; returns when the peer acknowledged all.
     */
    static void writeRandomly(Volume source, ReplicationLink link, String id, long seed, int writes) throws Exception {
        Random random = new Random(seed);
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < writes; i++) {
            int length = 512 * (1 + random.nextInt(256));
            long offset = 512L * random.nextInt((int) ((SIZE - length) / 512));
            byte[] data = new byte[length];
            random.nextBytes(data);
            source.write(offset, ByteBuffer.wrap(data));
            acks.add(link.write(id, offset, ByteBuffer.wrap(data), random.nextInt(10) == 0).toCompletableFuture());
        }
        acks.add(link.flush(id).toCompletableFuture());
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        source.flush();
    }

    /** Closes each of {@code resources} in order, skipping nulls; the first failure is thrown once all are closed. */
    static void closeAll(AutoCloseable... resources) throws Exception {
        Exception first = null;
        for (AutoCloseable r : resources) {
            try {
                if (r != null) {
                    r.close();
                }
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        for (Entry e : entries.values()) {
            e.volume().close();
        }
    }
}
