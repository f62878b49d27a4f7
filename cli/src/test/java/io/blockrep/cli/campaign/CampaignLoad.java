package io.blockrep.cli.campaign;

import io.blockrep.testkit.ExternalCommand;
import java.time.Duration;
import java.util.List;

/**
 * One round's write load: fio with its nbd engine writing {@code [offset, offset + size)} of the
 * primary's export at random, 4..64 KiB blocks, rate limited so that it lasts the round's faults,
 * then reading everything back and checking it ({@code --verify=crc32c}). The same offset, size and
 * seed give the same data, so a load that died with the primary is simply run again.
 */
record CampaignLoad(long offset, long size, long seed, int rateKiB) {

    /** The regions [first, last] that this load writes. */
    long firstRegion() {
        return offset / CampaignSystem.REGION;
    }

    long lastRegion() {
        return (offset + size - 1) / CampaignSystem.REGION;
    }

    ExternalCommand.Running start(String uri) {
        return ExternalCommand.start(List.of("fio", "--name=campaign", "--ioengine=nbd", "--uri=" + uri,
                "--rw=randwrite", "--bsrange=4k-64k", "--iodepth=4",
                // one process: a killed fio must not leave its forked job process behind
                "--thread",
                "--offset=" + offset, "--size=" + size, "--rate=" + rateKiB + "k",
                "--randseed=" + seed, "--verify=crc32c", "--do_verify=1", "--verify_fatal=1"));
    }

    /** Runs the load to its end; the result says whether it wrote and verified everything. */
    ExternalCommand.Result run(String uri, Duration timeout) {
        try (ExternalCommand.Running fio = start(uri)) {
            return fio.await(timeout);
        }
    }
}
