package io.blockrep.producer.nbd;

import io.blockrep.producer.replication.ReplicatedVolume;
import io.blockrep.producer.replication.VolumeReadOnlyException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Serves a facility's {@link ReplicatedVolume} as an NBD export (the export name is the volume id).
 * The volume decides per write whether it is mirrored or logged; a write refused because the volume
 * is SECONDARY here becomes {@link ReadOnlyExportException} (EPERM). Multi-conn is safe: a flush
 * covers every completed write of every connection, on both sides. Thread-safe, as the volume is.
 */
public final class VolumeExport implements NbdExport {
    private final ReplicatedVolume volume;

    public VolumeExport(ReplicatedVolume volume) {
        this.volume = volume;
    }

    @Override
    public String name() {
        return volume.name();
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public boolean readOnly() {
        return volume.readOnly();
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return volume.read(offset, dst);
    }

    @Override
    public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        return refusals(volume.write(offset, data, fua));
    }

    @Override
    public CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        return refusals(volume.writeZeroes(offset, length, fua));
    }

    @Override
    public CompletionStage<Void> trim(long offset, long length) {
        return refusals(volume.trim(offset, length));
    }

    @Override
    public CompletionStage<Void> flush() {
        return volume.flush();
    }

    private static CompletionStage<Void> refusals(CompletionStage<Void> stage) {
        CompletableFuture<Void> f = stage.toCompletableFuture();
        if (f.isDone() && !f.isCompletedExceptionally()) {
            return f;
        }
        return f.exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            return CompletableFuture.failedFuture(cause instanceof VolumeReadOnlyException
                    ? new ReadOnlyExportException(cause.getMessage()) : cause);
        });
    }
}
