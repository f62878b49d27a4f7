package io.blockrep.producer.nbd.bench;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.nbd.LocalVolumeExport;
import io.blockrep.producer.nbd.NbdExportRegistry;
import io.blockrep.producer.nbd.NbdServer;
import java.nio.file.Path;

/**
 * Serves one volume {@code vol} for end-to-end benchmarks (bench/nbd-fio.sh); not a test.
 * Usage: {@code NbdBenchServer STATE_DIR SIZE_BYTES PORT}. Runs until stdin closes.
 */
public final class NbdBenchServer {
    private NbdBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        VolumeStore store = new VolumeStore(Path.of(args[0]));
        VolumeMetadata meta = store.exists("vol") ? store.load("vol")
                : store.create("vol", null, Long.parseLong(args[1]), RegionGeometry.DEFAULT_REGION_SIZE, Role.PRIMARY);
        try (Volume volume = Volume.open(meta, false);
                NbdServer server = new NbdServer(new NbdServer.Config("127.0.0.1", Integer.parseInt(args[2]), 16,
                        NbdExportRegistry.of(new LocalVolumeExport(volume))))) {
            server.start();
            while (System.in.read() >= 0) {
                // serve until stdin closes
            }
        }
    }
}
