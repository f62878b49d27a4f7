package io.blockrep.replayer.resolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import io.blockrep.replayer.index.DirtySetIndex;
import io.blockrep.replayer.index.DirtyTopicReader;
import io.blockrep.replayer.index.MirrorLag;
import io.blockrep.replayer.index.SourceTopics;
import io.blockrep.replayer.index.Tombstoner;
import io.blockrep.replayer.service.FacilityClient;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.RegistryCodecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a split brain of one volume in favour of one side (the survivor), in steps that are each
 * safe to repeat, so a resolve interrupted anywhere (even by a kill -9 of either facility) is
 * finished by running it again:
 * <ol>
 *   <li>the loser is demoted (writes held, flushed, export read-only): its changes stop moving;
 *   <li>optionally its own changes are saved to a sparse image at their offsets;
 *   <li>the survivor marks the loser's changed regions dirty, durably: the resync set becomes the
 *       union of both sides' changes since their common generation;
 *   <li>once the loser's facility has published everything to Kafka, it drops its own eras and
 *       rewinds to the common generation; the survivor is then newer and attaches it;
 *   <li>the loser's dirty records are tombstoned, so no live key of its resolved eras is left;
 *   <li>the survivor resyncs the loser with the normal era/cutover machinery and the replayer.
 * </ol>
 * Nothing of the loser's is overwritten before step 3 holds it on the survivor, and nothing is
 * forgotten before it was saved (step 2) when the operator asked for it.
 */
public final class SplitBrainResolver {
    private static final Logger LOG = LoggerFactory.getLogger(SplitBrainResolver.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int READ_CHUNK = 16 << 20;

    /** One side: its node id, control API, and the volume's status there. */
    public record Side(String node, FacilityClient control, JsonNode status) {
        String role() {
            return status.path("role").asText();
        }

        String mode() {
            return status.path("mode").asText();
        }

        List<String> history() {
            List<String> ids = new ArrayList<>();
            status.path("generations").path("history").forEach(n -> ids.add(n.asText()));
            return ids;
        }
    }

    /**
     * What a resolve will do. {@code loserRegions}/{@code loserBytes}: the loser's own changes, which are
     * overwritten; {@code unionRegions}: what the resync copies. {@code stage}: where an earlier, interrupted
     * resolve stopped (FRESH, DEMOTED, DISCARDED).
     */
    public record Plan(String volume, Side survivor, Side loser, String common, int regionSize, long loserRegions, long loserBytes,
                       long survivorRegions, long unionRegions, long unionBytes, Stage stage) {
    }

    public enum Stage { FRESH, DEMOTED, DISCARDED }

    private final String volume;

    public SplitBrainResolver(String volume) {
        this.volume = volume;
    }

    /** Reads both sides and works out the plan; refuses when there is no split brain to resolve between them. */
    public Plan plan(String survivorNode, List<FacilityClient> controls) {
        Side survivor = null;
        Side loser = null;
        for (FacilityClient c : controls) {
            JsonNode facility = c.status();
            Side side = new Side(facility.path("node").asText(), c, c.volumeStatus(volume));
            if (side.node().equals(survivorNode)) {
                survivor = side;
            } else if (loser == null) {
                loser = side;
            } else {
                throw new InvalidInputException("more than two facilities given; name the survivor's and the loser's control APIs only");
            }
        }
        if (survivor == null || loser == null) {
            throw new InvalidInputException("--primary " + survivorNode + " must be one of the two facilities given (found "
                    + (survivor == null ? "no " + survivorNode : survivorNode) + (loser == null ? " and no other side" : " and " + loser.node()) + ")");
        }
        if (!"PRIMARY".equals(survivor.role())) {
            throw new InvalidInputException(survivorNode + " is " + survivor.role() + " for " + volume + "; the survivor must be PRIMARY");
        }
        String common = newestCommon(loser.history(), survivor.history());
        if (common == null) {
            throw new InvalidInputException(volume + ": " + survivor.node() + " and " + loser.node()
                    + " share no generation (unrelated copies); resolve cannot join them, a full copy can (blockrep replay " + volume + " --full)");
        }
        Stage stage = stage(survivor, loser, common);
        JsonNode loserRegions = loser.control().dirtyRegions(volume);
        JsonNode survivorRegions = survivor.control().dirtyRegions(volume);
        int regionSize = loserRegions.path("regionSize").asInt();
        RoaringBitmap union = bitmap(survivorRegions);
        union.or(bitmap(loserRegions));
        return new Plan(volume, survivor, loser, common, regionSize, loserRegions.path("regions").asLong(), loserRegions.path("bytes").asLong(),
                survivorRegions.path("regions").asLong(), union.getLongCardinality(), union.getLongCardinality() * regionSize, stage);
    }

    private Stage stage(Side survivor, Side loser, String common) {
        boolean splitBrain = "SPLIT_BRAIN".equals(survivor.mode()) || "SPLIT_BRAIN".equals(loser.mode())
                || "SPLIT_BRAIN".equals(survivor.status().path("peer").path("decision").asText())
                || "SPLIT_BRAIN".equals(loser.status().path("peer").path("decision").asText());
        String loserCurrent = loser.status().path("generations").path("current").asText();
        if ("SECONDARY".equals(loser.role()) && loserCurrent.equals(common) && !loser.history().isEmpty()
                && !survivor.status().path("generations").path("current").asText().equals(common)) {
            return Stage.DISCARDED;
        }
        if (!splitBrain) {
            throw new InvalidInputException("no split brain between " + survivor.node() + " and " + loser.node() + " for " + volume
                    + " (" + survivor.node() + ": " + survivor.mode() + ", " + loser.node() + ": " + loser.mode() + "); nothing to resolve");
        }
        return "SECONDARY".equals(loser.role()) ? Stage.DEMOTED : Stage.FRESH;
    }

    /** Step 1: the loser stops taking writes. */
    public void demoteLoser(Plan plan) {
        if (plan.stage() == Stage.FRESH) {
            plan.loser().control().demote(volume, true);
            LOG.info("{}: {} demoted", volume, plan.loser().node());
        }
    }

    /** Step 2: the loser's own changed regions, copied into a sparse image at their offsets. Returns the bytes saved. */
    public long saveDiscarded(Plan plan, Path file) {
        JsonNode regions = plan.loser().control().dirtyRegions(volume);
        long regionSize = regions.path("regionSize").asLong();
        long size = plan.loser().status().path("size").asLong();
        long saved = 0;
        try (FileChannel out = FileModes.openPrivate(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) { // volume data: 0600
            if (out.size() < size) {
                out.write(ByteBuffer.wrap(new byte[1]), size - 1); // sparse, volume-sized
            }
            for (JsonNode run : regions.path("runs")) {
                long from = run.get(0).asLong() * regionSize;
                long to = Math.min(size, (run.get(1).asLong() + 1) * regionSize);
                for (long pos = from; pos < to; pos += READ_CHUNK) {
                    int n = (int) Math.min(READ_CHUNK, to - pos);
                    byte[] bytes = plan.loser().control().read(volume, pos, n);
                    FileIo.writeFully(out, ByteBuffer.wrap(bytes), pos);
                    saved += n;
                }
            }
            out.force(true);
        } catch (IOException e) {
            throw new FatalException("cannot save the discarded regions to " + file + ": " + e.getMessage(), e);
        }
        return saved;
    }

    /** Step 3: the survivor holds the loser's regions as dirty. Returns how many were new there. */
    public long merge(Plan plan) {
        if (plan.stage() == Stage.DISCARDED) {
            return 0;
        }
        JsonNode regions = plan.loser().control().dirtyRegions(volume);
        ObjectNode body = JSON.createObjectNode();
        ArrayNode runs = body.putArray("runs");
        regions.path("runs").forEach(runs::add);
        return plan.survivor().control().merge(volume, body.toString()).path("newlyMarked").asLong();
    }

    /** Step 4: the loser drops its changes once its facility has published everything it recorded. */
    public void discard(Plan plan, Duration publishTimeout) throws InterruptedException {
        if (plan.stage() == Stage.DISCARDED) {
            return;
        }
        long deadline = System.nanoTime() + publishTimeout.toNanos();
        while (true) {
            JsonNode facility = plan.loser().control().status();
            String kafka = facility.path("kafka").asText();
            long backlog = facility.path("kafkaBacklogRegions").asLong();
            if (backlog == 0 && (kafka.equals("REACHABLE") || kafka.equals("DISABLED"))) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new RetriableException(plan.loser().node() + " has not published its dirty records yet (Kafka " + kafka + ", backlog "
                        + backlog + " region(s)); run resolve again once Kafka is reachable");
            }
            Thread.sleep(200); // polling a remote facility's status; there is nothing local to wait on
        }
        plan.loser().control().discard(volume, plan.common());
        LOG.info("{}: {} discarded its changes; back to generation {}", volume, plan.loser().node(), plan.common());
    }

    /** The loser's changed regions as its facility reports them (ask before {@link #discard}, which forgets them). */
    public RoaringBitmap loserRegions(Plan plan) {
        return plan.stage() == Stage.DISCARDED ? new RoaringBitmap() : bitmap(plan.loser().control().dirtyRegions(volume));
    }

    /** Step 5 on one cluster: {@link #tombstoneLoser(Plan, Properties, SourceTopics, RoaringBitmap, Duration, Duration)} without a mirror. */
    public long tombstoneLoser(Plan plan, Properties kafka, TopicLayout layout, Duration timeout) throws InterruptedException {
        return tombstoneLoser(plan, kafka, SourceTopics.local(layout), new RoaringBitmap(), timeout, timeout);
    }

    /** Step 5, single-object values only: {@link #tombstoneLoser(Plan, Properties, SourceTopics, RoaringBitmap, Duration, Duration, RegistryCodecs)}. */
    public long tombstoneLoser(Plan plan, Properties kafka, SourceTopics topics, RoaringBitmap loserRegions, Duration catchupTimeout,
                               Duration timeout) throws InterruptedException {
        return tombstoneLoser(plan, kafka, topics, loserRegions, catchupTimeout, timeout, RegistryCodecs.withoutRegistry());
    }

    /**
     * Step 5: no live dirty record of the loser's eras is left in the dirty topics ({@code topics}: the local one and
     * the mirrored peers', values read with {@code codecs}); the tombstones go to the local one. When the loser's records
     * reach this cluster through a mirror, its {@code loserRegions} (from {@link #loserRegions}, before the discard) must
     * all be seen first: a key that arrived after the tombstoning would stay live. That wait is bounded by
     * {@code catchupTimeout} (replayer.mirror.catchup.timeout) and fails retriably with the mirror's lag. Returns the
     * tombstones sent.
     */
    public long tombstoneLoser(Plan plan, Properties kafka, SourceTopics topics, RoaringBitmap loserRegions, Duration catchupTimeout,
                               Duration timeout, RegistryCodecs codecs) throws InterruptedException {
        String node = plan.loser().node();
        try (DirtyTopicReader reader = new DirtyTopicReader(kafka, topics, codecs, PoisonSink.NONE);
             Tombstoner tombstoner = new Tombstoner(kafka, topics.layout(), timeout)) {
            reader.rebuild(reader.partitions(timeout), timeout);
            DirtySetIndex index = reader.index();
            long deadline = System.nanoTime() + catchupTimeout.toNanos();
            RoaringBitmap unseen = unseen(index, node, loserRegions);
            while (!unseen.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new RetriableException(volume + ": " + unseen.getLongCardinality() + " of " + node + "'s changed region(s) "
                            + "have no dirty record on this cluster after replayer.mirror.catchup.timeout (" + catchupTimeout
                            + "); the mirror is behind: " + MirrorLag.describe(kafka, topics, java.time.Clock.systemUTC(), Duration.ofSeconds(5))
                            + ". Run resolve again once it caught up");
                }
                reader.poll(Duration.ofMillis(200));
                unseen = unseen(index, node, loserRegions);
            }
            long sent = 0;
            Set<Long> marked = new HashSet<>();
            index.closedEras(volume, node).forEach(c -> marked.add(c.era()));
            for (long era : index.eras(volume, node)) {
                sent += tombstoner.tombstoneRegions(volume, node, era, index.liveRegions(volume, node, era)).join();
                if (marked.contains(era)) {
                    tombstoner.tombstoneMarker(volume, node, era).join();
                    sent++;
                }
            }
            return sent;
        }
    }

    /** The regions of {@code expected} that no live key of {@code node} in any era covers yet. */
    private RoaringBitmap unseen(DirtySetIndex index, String node, RoaringBitmap expected) {
        RoaringBitmap seen = new RoaringBitmap();
        for (long era : index.eras(volume, node)) {
            seen.or(index.liveRegions(volume, node, era));
        }
        return RoaringBitmap.andNot(expected, seen);
    }

    static String newestCommon(List<String> loser, List<String> survivor) {
        for (String id : loser) {
            if (survivor.contains(id)) {
                return id;
            }
        }
        return null;
    }

    private static RoaringBitmap bitmap(JsonNode regions) {
        RoaringBitmap bits = new RoaringBitmap();
        for (JsonNode run : regions.path("runs")) {
            bits.add(run.get(0).asLong(), run.get(1).asLong() + 1);
        }
        return bits;
    }
}
