package io.blockrep.cli.campaign;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Figures of a campaign: rounds, faults by type, convergence times (from the last heal to REPLICATING with nothing dirty). */
final class CampaignSummary {
    private final long seed;
    private final Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
    private final List<Long> convergenceMillis = new ArrayList<>();
    private int rounds;
    private int loadReruns;
    private String slowestRound = "";
    private long slowest = -1;

    CampaignSummary(long seed) {
        this.seed = seed;
    }

    void round(RoundPlan plan, Duration convergence, boolean loadRerun) {
        rounds++;
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
                .append(", load re-run after a primary fault in ").append(loadReruns).append(" rounds\n");
        s.append("faults:");
        faults.forEach((f, n) -> s.append(' ').append(f).append('=').append(n));
        s.append("\nconvergence: median ").append(median).append(" ms, slowest ").append(Math.max(slowest, 0))
                .append(" ms (").append(slowestRound).append(")\n");
        return s.toString();
    }
}
