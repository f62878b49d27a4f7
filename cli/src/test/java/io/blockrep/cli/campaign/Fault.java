package io.blockrep.cli.campaign;

import java.time.Duration;
import java.util.Random;

/**
 * The faults of the campaign. {@link #inject} strikes at once and returns how to heal; the campaign
 * heals after a hold drawn from the round's {@link Random}. Two faults of one round never share a
 * {@link Target} (a process is not SIGSTOPped and restarted by two faults at once).
 *
 * <p>{@link #PRIMARY_STATE_FULL} fills the primary's state directory, then cuts the link; its heal
 * restores both. {@link #PRIMARY_STATE_FULL_AT_RESYNC} cuts the link, waits (up to 3 s) for LOGGING,
 * and fills the state directory; its heal restores the link, waits (up to 3 s) until the primary tries to resync, and only then frees the space.
 *
 * <p>"Slow secondary disk" is modelled as bursts of SIGSTOP/SIGCONT of the secondary (150 ms frozen,
 * 150 ms running): every write it applies, and its acks, stall in those bursts, as behind a disk that
 * stalls. A real throttled block device (dm-delay) would need a loop device per run; the bursts give
 * the same effect on the link's ack timeout and the replayer's data sets.
 */
enum Fault {
    LINK_CUT(Target.LINK),
    LINK_BLACKHOLE(Target.LINK),
    LINK_HALF_OPEN(Target.LINK),
    LINK_SOCKET_KILL(Target.LINK),
    KILL_PRIMARY(Target.PRIMARY),
    KILL_SECONDARY(Target.SECONDARY),
    KILL_REPLAYER(Target.REPLAYER),
    STOP_PRIMARY(Target.PRIMARY),
    STOP_SECONDARY(Target.SECONDARY),
    STOP_REPLAYER(Target.REPLAYER),
    BROKER_RESTART(Target.BROKER),
    BROKER_DOWN(Target.BROKER),
    PRIMARY_STATE_FULL(Target.PRIMARY, Target.LINK),
    PRIMARY_STATE_FULL_AT_RESYNC(Target.PRIMARY, Target.LINK),
    SECONDARY_STORE_FULL(Target.SECONDARY),
    SLOW_SECONDARY(Target.SECONDARY);

    /** What a fault acts on; one fault per target and round. */
    enum Target { LINK, PRIMARY, SECONDARY, REPLAYER, BROKER }

    final java.util.Set<Target> targets;

    Fault(Target... targets) {
        this.targets = java.util.EnumSet.copyOf(java.util.List.of(targets));
    }

    boolean sharesTargetWith(Fault other) {
        return other.targets.stream().anyMatch(targets::contains);
    }

    /** Whether the NBD load may fail while this fault is on (the primary died, or cannot record dirty bits). */
    boolean mayFailLoad() {
        return this == KILL_PRIMARY || this == PRIMARY_STATE_FULL || this == PRIMARY_STATE_FULL_AT_RESYNC;
    }

    /** How long the fault lasts before it is healed, drawn from the round's random. */
    Duration hold(Random random) {
        return switch (this) {
            // longer than the producer's delivery timeout (CampaignSystem.DELIVERY_TIMEOUT)
            case BROKER_DOWN -> CampaignSystem.DELIVERY_TIMEOUT.plusMillis(1_000 + random.nextInt(1_500));
            case LINK_SOCKET_KILL -> Duration.ZERO;
            case KILL_PRIMARY, KILL_SECONDARY, KILL_REPLAYER, BROKER_RESTART -> Duration.ofMillis(random.nextInt(800));
            default -> Duration.ofMillis(300 + random.nextInt(2_200));
        };
    }

    /** Strikes now; the returned action heals. */
    Runnable inject(CampaignSystem system) {
        switch (this) {
            case LINK_CUT:
                system.proxy().cut();
                return system.proxy()::restore;
            case LINK_BLACKHOLE:
                system.proxy().blackhole();
                return system.proxy()::restore;
            case LINK_HALF_OPEN:
                system.proxy().halfOpen();
                return system.proxy()::restore;
            case LINK_SOCKET_KILL:
                system.killLinkSockets();
                return () -> { };
            case KILL_PRIMARY:
                system.primary().kill();
                // fio's nbd engine does not survive its server: it is stopped and the load re-run after the heal.
                system.stopLoad();
                return system::restartPrimary;
            case KILL_SECONDARY:
                system.secondary().kill();
                return system::restartSecondary;
            case KILL_REPLAYER:
                system.replayer().kill();
                return system::restartReplayer;
            case STOP_PRIMARY:
                return stopped(system.primary());
            case STOP_SECONDARY:
                return stopped(system.secondary());
            case STOP_REPLAYER:
                return stopped(system.replayer());
            case BROKER_RESTART:
            case BROKER_DOWN:
                system.broker().stop();
                return system.broker()::start;
            case PRIMARY_STATE_FULL:
                // Full before the outage: entering LOGGING (a new generation in volume.json) and the
                // publisher's files meet ENOSPC; writes may fail (EIO) rather than go unrecorded.
                system.primaryState().fill();
                system.proxy().cut();
                return () -> {
                    system.proxy().restore();
                    system.primaryState().unfill();
                };
            case PRIMARY_STATE_FULL_AT_RESYNC:
                // The state directory fills while the link is down, and the link returns before space does:
                // the era close of the resync (a new bitmap file) meets ENOSPC, as in issue #12 observation 3.
                // The link goes first, so that writes are logged (the new generation is written while there is room).
                system.proxy().cut();
                system.awaitPrimaryMode("LOGGING", java.time.Duration.ofSeconds(3));
                system.primaryState().fill();
                return () -> {
                    system.proxy().restore();
                    system.awaitPrimaryLeftLogging(java.time.Duration.ofSeconds(3));
                    system.primaryState().unfill();
                };
            case SECONDARY_STORE_FULL:
                system.secondaryStore().fill();
                return system.secondaryStore()::unfill;
            case SLOW_SECONDARY:
                return SlowProcess.start(system.secondary());
            default:
                throw new AssertionError(this);
        }
    }

    private static Runnable stopped(io.blockrep.testkit.ExternalCommand.Running p) {
        p.signal("STOP");
        return () -> p.signal("CONT");
    }
}
