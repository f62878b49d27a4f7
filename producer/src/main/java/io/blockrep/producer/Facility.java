package io.blockrep.producer;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.Sizes;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.producer.nbd.LocalVolumeExport;
import io.blockrep.producer.nbd.NbdExport;
import io.blockrep.producer.nbd.NbdExportRegistry;
import io.blockrep.producer.nbd.NbdServer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running facility ({@code blockrep producer}): owns the volumes of its configuration and serves
 * them over NBD. A facility holds an exclusive lock on its state directory, so two processes never
 * serve the same volumes. {@link #close()} stops the NBD server, then closes the volumes.
 *
 * <p>Thread-safety: {@link #start} and {@link #close} are called by one owner thread; the accessors
 * are safe from any thread.
 */
public final class Facility implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Facility.class);
    static final String LOCK_FILE = "facility.lock";

    private final ProducerConfig config;
    private final FileChannel lockChannel;
    private final Map<String, Volume> volumes;
    private final NbdServer nbd;

    private Facility(ProducerConfig config, FileChannel lockChannel, Map<String, Volume> volumes, NbdServer nbd) {
        this.config = config;
        this.lockChannel = lockChannel;
        this.volumes = volumes;
        this.nbd = nbd;
    }

    /** Locks the state directory, opens (creating when missing) every configured volume and starts the NBD server. */
    public static Facility start(ProducerConfig config) {
        VolumeStore store = new VolumeStore(config.stateDir());
        FileChannel lockChannel = null;
        Map<String, Volume> volumes = new LinkedHashMap<>();
        try {
            Files.createDirectories(config.stateDir());
            lockChannel = FileChannel.open(config.stateDir().resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            tryLock(lockChannel, config.stateDir());
            for (VolumeMetadata meta : provision(store, config)) {
                volumes.put(meta.id(), Volume.open(meta, meta.role() == Role.SECONDARY));
            }
            List<NbdExport> exports = new ArrayList<>();
            for (Volume v : volumes.values()) {
                exports.add(new LocalVolumeExport(v));
            }
            NbdServer nbd = new NbdServer(new NbdServer.Config(config.nbdListen().host(), config.nbdListen().port(),
                    config.nbdMaxConnections(), NbdExportRegistry.of(exports.toArray(NbdExport[]::new))));
            nbd.start();
            Facility f = new Facility(config, lockChannel, volumes, nbd);
            LOG.info("facility {} serving {} volume(s) over NBD on {}:{}", config.nodeId(), volumes.size(),
                    config.nbdListen().host(), nbd.port());
            return f;
        } catch (IOException e) {
            closeQuietly(volumes, lockChannel);
            throw new FatalException("cannot start facility " + config.nodeId() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(volumes, lockChannel);
            throw e;
        }
    }

    /** The lock lives as long as the channel; closing the channel releases it. */
    private static FileLock tryLock(FileChannel ch, Path stateDir) throws IOException {
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new RetriableException("state directory " + stateDir + " is in use by another blockrep producer");
        }
        return lock;
    }

    /** Loads every configured volume, creating missing ones; all mismatches are reported at once. */
    static List<VolumeMetadata> provision(VolumeStore store, ProducerConfig config) {
        List<String> problems = new ArrayList<>();
        List<VolumeMetadata> result = new ArrayList<>();
        for (ProducerConfig.VolumeSpec spec : config.volumes()) {
            if (!store.exists(spec.id())) {
                // Declarative: a configured volume that does not exist yet is created, sparse.
                VolumeMetadata created = store.create(spec.id(), spec.path(), spec.size(), spec.regionSize(), spec.role());
                LOG.info("created volume {} ({}, region size {}) at {}", created.id(), Sizes.format(created.size()),
                        Sizes.format(created.regionSize()), created.path());
                result.add(created);
                continue;
            }
            VolumeMetadata meta = store.load(spec.id());
            String prefix = "producer.volume." + spec.id() + ".";
            if (meta.size() != spec.size()) {
                problems.add(prefix + "size: configured " + Sizes.format(spec.size()) + " but the volume is "
                        + Sizes.format(meta.size()) + " (volumes are not resized)");
            }
            if (meta.regionSize() != spec.regionSize()) {
                problems.add(prefix + "region.size: configured " + Sizes.format(spec.regionSize()) + " but the volume uses "
                        + Sizes.format(meta.regionSize()));
            }
            if (spec.path() != null && !spec.path().toAbsolutePath().equals(meta.path())) {
                problems.add(prefix + "path: configured " + spec.path().toAbsolutePath() + " but the volume is backed by " + meta.path());
            }
            if (meta.role() != spec.role()) {
                LOG.info("volume {} keeps its recorded role {} (configured {} applies only at creation)", meta.id(), meta.role(), spec.role());
            }
            result.add(meta);
        }
        if (!problems.isEmpty()) {
            throw InvalidInputException.config(problems);
        }
        return result;
    }

    public String nodeId() {
        return config.nodeId();
    }

    /** The port the NBD server listens on (the configured one, or the one picked for port 0). */
    public int nbdPort() {
        return nbd.port();
    }

    public String nbdHost() {
        return config.nbdListen().host();
    }

    public List<VolumeMetadata> volumes() {
        return volumes.values().stream().map(Volume::metadata).toList();
    }

    @Override
    public void close() {
        nbd.close();
        closeQuietly(volumes, lockChannel);
        LOG.info("facility {} stopped", config.nodeId());
    }

    private static void closeQuietly(Map<String, Volume> volumes, FileChannel lockChannel) {
        for (Volume v : volumes.values()) {
            try {
                v.flush();
                v.close();
            } catch (IOException e) {
                LOG.warn("closing volume {}: {}", v.id(), e.toString());
            }
        }
        if (lockChannel != null) {
            try {
                lockChannel.close();
            } catch (IOException e) {
                LOG.warn("releasing state lock: {}", e.toString());
            }
        }
    }
}
