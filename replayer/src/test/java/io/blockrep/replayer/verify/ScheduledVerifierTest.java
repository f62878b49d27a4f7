package io.blockrep.replayer.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.RetriableException;
import io.blockrep.common.volume.RegionGeometry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The schedule of {@link ScheduledVerifier}, stepped with a hand-moved clock and a scripted set of volumes: no threads, no sleeps. */
class ScheduledVerifierTest {
    private static final Duration INTERVAL = Duration.ofHours(24);
    private static final RegionGeometry GEOMETRY = new RegionGeometry(64L << 20, 65536);

    /** A clock the test moves. */
    static final class ManualClock extends Clock {
        long millis = 1_700_000_000_000L;

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        void advance(Duration d) {
            millis += d.toMillis();
        }
    }

    /** Scripted facilities: a mode per volume, differing regions per volume, and a log of what was asked. */
    static final class FakeVolumes implements ScheduledVerifier.Volumes {
        final Map<String, String> mode = new HashMap<>();
        final Map<String, Long> lastVerified = new HashMap<>();
        final Map<String, List<Long>> differing = new HashMap<>();
        final List<String> compared = new ArrayList<>();
        final Map<String, List<Long>> marked = new HashMap<>();
        final Map<String, Long> verifiedAt = new HashMap<>();
        final List<Map<String, String>> events = new ArrayList<>();
        /** Run during a compare, between its two halves (to start a resync in the middle). */
        Runnable midCompare = () -> { };
        RuntimeException failTarget;
        RuntimeException failVerified;

        @Override
        public Optional<ScheduledVerifier.Target> target(String volume) {
            if (failTarget != null) {
                throw failTarget;
            }
            return Optional.of(new ScheduledVerifier.Target(volume, "site-a", "site-b", GEOMETRY, mode.getOrDefault(volume, "REPLICATING"),
                    lastVerified.getOrDefault(volume, -1L)));
        }

        @Override
        public String mode(String volume, String primary) {
            return mode.getOrDefault(volume, "REPLICATING");
        }

        @Override
        public VolumeVerifier.Result compare(ScheduledVerifier.Target target, BooleanSupplier stop) {
            compared.add(target.volume());
            long half = GEOMETRY.regionCount() / 2;
            if (stop.getAsBoolean()) {
                return new VolumeVerifier.Result(target.volume(), 0, List.of(), 0, false);
            }
            midCompare.run();
            List<Long> found = differing.getOrDefault(target.volume(), List.of());
            if (stop.getAsBoolean()) {
                return new VolumeVerifier.Result(target.volume(), half, found.stream().filter(r -> r < half).toList(), 5, false);
            }
            return new VolumeVerifier.Result(target.volume(), GEOMETRY.regionCount(), found, 10, true);
        }

        @Override
        public long markDiffering(ScheduledVerifier.Target target, List<Long> regions) {
            marked.computeIfAbsent(target.volume(), v -> new ArrayList<>()).addAll(regions);
            return regions.size();
        }

        @Override
        public void verified(ScheduledVerifier.Target target, VolumeVerifier.Result result, long finishedMillis) {
            if (failVerified != null) {
                throw failVerified;
            }
            verifiedAt.put(target.volume(), finishedMillis);
        }

        @Override
        public void event(ScheduledVerifier.Target target, Map<String, String> detail) {
            events.add(detail);
        }
    }

    private final ManualClock clock = new ManualClock();
    private final FakeVolumes volumes = new FakeVolumes();
    private final Set<String> owned = new HashSet<>(Set.of("vol"));
    private final Set<String> resyncing = new HashSet<>();
    private final ScheduledVerifier verifier = new ScheduledVerifier(INTERVAL, volumes, () -> Set.copyOf(owned), resyncing::contains, clock);

    @Test
    void aNewlyOwnedVolumeIsFirstVerifiedOneIntervalLaterThenEveryInterval() throws Exception {
        assertThat(verifier.tick()).isNull();
        clock.advance(INTERVAL.minusSeconds(1));
        assertThat(verifier.tick()).isNull();
        assertThat(volumes.compared).isEmpty();

        clock.advance(Duration.ofSeconds(1));
        VolumeVerifier.Result first = verifier.tick();
        assertThat(first).isNotNull();
        assertThat(first.complete()).isTrue();
        assertThat(volumes.compared).containsExactly("vol");
        assertThat(volumes.verifiedAt).containsEntry("vol", clock.millis());
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + INTERVAL.toMillis());

        clock.advance(Duration.ofHours(12));
        assertThat(verifier.tick()).isNull();
        clock.advance(Duration.ofHours(12));
        assertThat(verifier.tick()).isNotNull();
        assertThat(volumes.compared).containsExactly("vol", "vol");
    }

    @Test
    void aMismatchMarksTheDifferingRegionsAndPublishesTheFigures() throws Exception {
        volumes.differing.put("vol", List.of(7L, 900L));
        verifier.tick();
        clock.advance(INTERVAL);

        VolumeVerifier.Result r = verifier.tick();

        assertThat(r.differing()).containsExactly(7L, 900L);
        assertThat(volumes.marked).containsEntry("vol", List.of(7L, 900L));
        assertThat(volumes.events).singleElement().satisfies(e -> assertThat(e)
                .containsEntry("regionsChecked", Long.toString(GEOMETRY.regionCount()))
                .containsEntry("regionsDiffering", "2").containsEntry("durationMillis", "10").containsEntry("complete", "true")
                .containsEntry("primary", "site-a").containsEntry("replica", "site-b"));
        assertThat(volumes.verifiedAt).containsKey("vol");
    }

    @Test
    void aVolumeThatIsNotReplicatingOrIsResyncingWaitsAndIsLookedAtAgainAfterTheRetryDelay() throws Exception {
        verifier.tick();
        clock.advance(INTERVAL);
        volumes.mode.put("vol", "LOGGING");
        assertThat(verifier.tick()).isNull();
        assertThat(volumes.compared).isEmpty();
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + VerifySchedule.MAX_RETRY.toMillis());

        volumes.mode.put("vol", "REPLICATING");
        resyncing.add("vol");
        clock.advance(VerifySchedule.MAX_RETRY);
        assertThat(verifier.tick()).isNull();
        assertThat(volumes.compared).as("never while dirty regions of it are live").isEmpty();

        resyncing.clear();
        clock.advance(VerifySchedule.MAX_RETRY);
        assertThat(verifier.tick()).isNotNull();
        assertThat(volumes.compared).containsExactly("vol");
    }

    @Test
    void aVerifyYieldsToAResyncThatStartsMarksWhatItFoundAndIsNotRecordedAsFinished() throws Exception {
        volumes.differing.put("vol", List.of(3L, 1000L));
        volumes.midCompare = () -> resyncing.add("vol");
        verifier.tick();
        clock.advance(INTERVAL);

        assertThat(verifier.tick()).isNull();

        assertThat(volumes.compared).containsExactly("vol");
        assertThat(volumes.marked).containsEntry("vol", List.of(3L));
        assertThat(volumes.verifiedAt).isEmpty();
        assertThat(volumes.events).singleElement().satisfies(e -> assertThat(e).containsEntry("complete", "false"));
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + VerifySchedule.MAX_RETRY.toMillis());
    }

    @Test
    void aVerifyYieldsWhenThePrimaryLeavesReplicatingOrTheVolumeMovesAway() throws Exception {
        volumes.midCompare = () -> volumes.mode.put("vol", "LOGGING");
        verifier.tick();
        clock.advance(INTERVAL);
        assertThat(verifier.tick()).isNull();
        assertThat(volumes.verifiedAt).isEmpty();

        volumes.mode.clear();
        volumes.midCompare = () -> owned.remove("vol");
        clock.advance(VerifySchedule.MAX_RETRY);
        assertThat(verifier.tick()).isNull();
        assertThat(volumes.compared).hasSize(2);
        assertThat(volumes.verifiedAt).isEmpty();
    }

    @Test
    void aVerifyRecordedOnTheFacilityMeanwhilePushesTheNextOneBack() throws Exception {
        verifier.tick();
        clock.advance(INTERVAL);
        long elsewhere = clock.millis() - Duration.ofHours(2).toMillis();
        volumes.lastVerified.put("vol", elsewhere);

        assertThat(verifier.tick()).isNull();

        assertThat(volumes.compared).isEmpty();
        assertThat(verifier.dueMillis("vol")).isEqualTo(elsewhere + INTERVAL.toMillis());
    }

    @Test
    void aVolumeNoLongerOwnedIsForgottenAndStartsAFreshIntervalWhenOwnedAgain() throws Exception {
        verifier.tick();
        owned.clear();
        clock.advance(INTERVAL);
        assertThat(verifier.tick()).isNull();
        assertThat(verifier.dueMillis("vol")).isEqualTo(-1);

        owned.add("vol");
        assertThat(verifier.tick()).isNull();
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + INTERVAL.toMillis());
        assertThat(volumes.compared).isEmpty();
    }

    @Test
    void anUnreachableFacilityPostponesTheVolumeWithoutEndingTheVerifier() throws Exception {
        verifier.tick();
        clock.advance(INTERVAL);
        volumes.failTarget = new RetriableException("cannot reach the control API");
        assertThat(verifier.tick()).isNull();
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + VerifySchedule.MAX_RETRY.toMillis());

        volumes.failTarget = null;
        clock.advance(VerifySchedule.MAX_RETRY);
        assertThat(verifier.tick()).isNotNull();
    }

    @Test
    void oneVolumeIsVerifiedPerTickInIdOrder() throws Exception {
        owned.add("alpha");
        verifier.tick();
        clock.advance(INTERVAL);
        verifier.tick();
        assertThat(volumes.compared).containsExactly("alpha");
        verifier.tick();
        assertThat(volumes.compared).containsExactly("alpha", "vol");
    }

    @Test
    void aPrimaryThatCannotRecordTheResultDoesNotMakeTheVerifierStartOverAtOnce() throws Exception {
        volumes.failVerified = new io.blockrep.common.FatalException("HTTP 404: no such path");
        verifier.tick();
        clock.advance(INTERVAL);

        assertThat(verifier.tick()).isNotNull();

        assertThat(volumes.events).hasSize(1);
        assertThat(verifier.dueMillis("vol")).isEqualTo(clock.millis() + INTERVAL.toMillis());
    }

    @Test
    void anUnexpectedFailureEndsTheThreadAndIsHandedToTheOwner() throws Exception {
        java.util.concurrent.CompletableFuture<Throwable> handed = new java.util.concurrent.CompletableFuture<>();
        IllegalStateException bug = new IllegalStateException("a bug");
        try (ScheduledVerifier failing = new ScheduledVerifier(INTERVAL, volumes, () -> {
            throw bug;
        }, resyncing::contains, clock).start("r1", handed::complete)) {
            assertThat(handed.get(10, java.util.concurrent.TimeUnit.SECONDS)).isSameAs(bug);
        }
    }
}
