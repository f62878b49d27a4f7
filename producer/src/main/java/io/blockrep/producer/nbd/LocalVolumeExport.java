package io.blockrep.producer.nbd;

import io.blockrep.common.volume.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Serves a local {@link Volume} as an NBD export. Every operation runs on the calling thread and
 * returns an already-completed stage; thread-safe because {@link Volume} is. A flush forces the
 * shared backing file, so it covers writes from every connection: multi-conn is safe. The export
 * does not own the volume; whoever opened it closes it.
 */
public final class LocalVolumeExport implements NbdExport {
    private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);

    private final Volume volume;
    private final boolean readOnly;

    public LocalVolumeExport(Volume volume) {
        this(volume, volume.readOnly());
    }

    /** @param readOnly export read-only even if the volume is writable (a SECONDARY written only by the link) */
    public LocalVolumeExport(Volume volume, boolean readOnly) {
        this.volume = Objects.requireNonNull(volume, "volume");
        this.readOnly = readOnly || volume.readOnly();
    }

    @Override
    public String name() {
        return volume.id();
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return run(() -> volume.read(offset, dst));
    }

    @Override
    public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        return run(() -> {
            volume.write(offset, data);
            if (fua) {
                volume.flush();
            }
        });
    }

    @Override
    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        return run(() -> {
            volume.writeZeroes(offset, length);
            if (fua) {
                volume.flush();
            }
        });
    }

    @Override
    public CompletionStage<Void> trim(long offset, long length) {
        return run(() -> volume.trim(offset, length));
    }

    @Override
    public CompletionStage<Void> flush() {
        return run(volume::flush);
    }

    @Override
    public String toString() {
        return "LocalVolumeExport[" + volume.id() + "]";
    }

    private interface VolumeOp {
        void run() throws IOException;
    }

    private static CompletionStage<Void> run(VolumeOp op) {
        try {
            op.run();
            return DONE;
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedStage(e);
        }
    }
}
