package io.blockrep.replayer.verify;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.RetriableException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.copy.RateLimiter;
import io.blockrep.replayer.index.ReplayEvents;
import io.blockrep.replayer.service.CurrentPrimary;
import io.blockrep.replayer.service.FacilityClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ScheduledVerifier.Volumes} against the real facilities: the pair from both control APIs
 * ({@link CurrentPrimary}), hashes over two fresh link connections ({@link VerifyLinks}) at
 * {@code replayer.verify.rate} (a limiter of its own, apart from the resync's), marks and results
 * through the primary's control API, events through the runtime's {@link ReplayEvents}. Used by the
 * verifier's one thread.
 */
public final class LiveVerifyVolumes implements ScheduledVerifier.Volumes {
    private static final Logger LOG = LoggerFactory.getLogger(LiveVerifyVolumes.class);

    private final ReplayerConfig config;
    private final Function<String, FacilityClient> controls;
    private final ReplayEvents events;
    private final VolumeVerifier verifier;

    /** @param controls the control API client of a node id */
    public LiveVerifyVolumes(ReplayerConfig config, Function<String, FacilityClient> controls, ReplayEvents events) {
        this.config = config;
        this.controls = controls;
        this.events = events;
        this.verifier = new VolumeVerifier(RateLimiter.of(config.verifyRateBytesPerSecond()), System::nanoTime);
    }

    @Override
    public Optional<ScheduledVerifier.Target> target(String volume) {
        CurrentPrimary current;
        try {
            current = CurrentPrimary.find(config, volume);
        } catch (RetriableException e) {
            LOG.debug("{}", e.getMessage());
            return Optional.empty();
        }
        JsonNode s = current.status();
        JsonNode last = s.path("lastVerify").path("finishedMillis");
        return Optional.of(new ScheduledVerifier.Target(volume, current.primary().id(), current.peer().id(),
                new RegionGeometry(s.path("size").asLong(), s.path("regionSize").asInt()), s.path("mode").asText(),
                last.isNumber() ? last.asLong() : -1));
    }

    @Override
    public String mode(String volume, String primary) {
        JsonNode s = controls.apply(primary).volumeStatus(volume);
        return "PRIMARY".equals(s.path("role").asText()) ? s.path("mode").asText() : s.path("role").asText();
    }

    @Override
    public VolumeVerifier.Result compare(ScheduledVerifier.Target t, BooleanSupplier stop) throws InterruptedException {
        try (VerifyLinks links = VerifyLinks.open(config, config.node(t.primary()), config.node(t.replica()), t.volume(), t.geometry())) {
            return verifier.compare(t.volume(), t.geometry(), links.source(), links.replica(), stop);
        }
    }

    @Override
    public long markDiffering(ScheduledVerifier.Target t, List<Long> regions) {
        return controls.apply(t.primary()).markDiffering(t.volume(), regions);
    }

    @Override
    public void verified(ScheduledVerifier.Target t, VolumeVerifier.Result r, long finishedMillis) {
        controls.apply(t.primary()).verified(t.volume(), finishedMillis, r.regionsChecked(), r.differing().size(), r.durationMillis(),
                config.id());
    }

    @Override
    public void event(ScheduledVerifier.Target t, Map<String, String> detail) {
        events.verifyFinished(t.volume(), detail).whenComplete((ok, e) -> {
            if (e != null) {
                LOG.warn("{}", e.getMessage());
            }
        });
    }
}
