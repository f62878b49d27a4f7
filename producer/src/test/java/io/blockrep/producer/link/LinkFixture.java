package io.blockrep.producer.link;

import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

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

    @Override
    public Optional<Entry> find(String volumeId) {
        return Optional.ofNullable(entries.get(volumeId));
    }

    static VolumeInfo primaryInfo(String id) {
        return new VolumeInfo(id, SIZE, REGION, Role.PRIMARY, List.of());
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
