package io.blockrep.cli.campaign;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What one round does, drawn up front from the campaign seed and the round number alone (so one
 * round can be re-run on its own with the same schedule): the load, one or two faults on different
 * targets, when each strikes after the load started (the second inside the first), and how long each lasts.
 */
record RoundPlan(int round, CampaignLoad load, List<Fault> faults, List<Duration> delays, List<Duration> holds) {

    static RoundPlan draw(long seed, int round, List<Fault> enabled) {
        Random random = new Random(mix(seed * 0x9E3779B97F4A7C15L + round));
        long regions = CampaignSystem.SIZE / CampaignSystem.REGION;
        long sizeRegions = 16 + random.nextInt(64);
        long first = random.nextLong(regions - sizeRegions);
        CampaignLoad load = new CampaignLoad(first * CampaignSystem.REGION, sizeRegions * CampaignSystem.REGION,
                random.nextInt(1 << 30), 1024 + random.nextInt(2048));
        List<Fault> faults = new ArrayList<>();
        faults.add(enabled.get(random.nextInt(enabled.size())));
        if (random.nextInt(3) == 0) {
            List<Fault> others = enabled.stream().filter(f -> !f.sharesTargetWith(faults.get(0))).toList();
            if (!others.isEmpty()) {
                faults.add(others.get(random.nextInt(others.size())));
            }
        }
        List<Duration> delays = new ArrayList<>();
        List<Duration> holds = new ArrayList<>();
        for (Fault f : faults) {
            delays.add(Duration.ofMillis(random.nextInt(1_500)));
            holds.add(f.hold(random));
        }
        return new RoundPlan(round, load, List.copyOf(faults), List.copyOf(delays), List.copyOf(holds));
    }

    /** MurmurHash3's finaliser: neighbouring (seed, round) pairs give unrelated Random streams. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    boolean loadMayFail() {
        return faults.stream().anyMatch(Fault::mayFailLoad);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("round " + round + ": load " + load.size() / 1024 + " KiB at " + load.offset()
                + " (" + load.rateKiB() + " KiB/s)");
        for (int i = 0; i < faults.size(); i++) {
            s.append(", ").append(faults.get(i)).append(" after ").append(delays.get(i).toMillis()).append(" ms for ")
                    .append(holds.get(i).toMillis()).append(" ms");
        }
        return s.toString();
    }
}
