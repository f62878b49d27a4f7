package io.blockrep.cli.campaign;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Figures of a campaign: rounds, faults by type, rounds whose faults forced a resync, and convergence
 * times (from the later of the last heal and the end of the load, to REPLICATING with nothing dirty).
 */
final class CampaignSummary {
    private final long seed;
    private final Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
    private final List<Long> convergenceMillis = new ArrayList<>();
    private int rounds;
    private int loadReruns;
    private int resyncs;
    private String slowestRound = "";
    private long slowest = -1;

    CampaignSummary(long seed) {
        this.seed = seed;
    }

    /** {@code resynced}: the round's faults took the primary out of REPLICATING (its era moved on). */
    void round(RoundPlan plan, Duration convergence, boolean loadRerun, boolean resynced) {
        rounds++;
        if (resynced) {
            resyncs++;
        }
        plan.faults().forEach(f -> faults.merge(f, 1, Integer::sum));
        convergenceMillis.add(convergence.toMillis());
        if (loadRerun) {
            loadReruns++;
        }
        if (convergence.toMillis() > slowest) {
            slowest = convergence.toMillis();
            slowestRound = plan.toString();
        }
    }

    @Override
    public String toString() {
        List<Long> sorted = convergenceMillis.stream().sorted().toList();
        long median = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
        StringBuilder s = new StringBuilder();
        s.append("fault campaign: seed ").append(seed).append(", ").append(rounds).append(" rounds passed")
                .append(", ").append(resyncs).append(" with a resync (era moved on)")
                .append(", load re-run after a primary fault in ").append(loadReruns).append('\n');
        s.append("faults:");
        faults.forEach((f, n) -> s.append(' ').append(f).append('=').append(n));
        s.append("\nconvergence: median ").append(median).append(" ms, slowest ").append(Math.max(slowest, 0))
                .append(" ms (").append(slowestRound).append(")\n");
        return s.toString();
    }
}
