package io.blockrep.replayer.index;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.schemas.topic.TopicLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The topics of this replayer's Kafka cluster that together hold the dirty set (and the events) of
 * every node: the local {@code <prefix>dirty}, which this site's facility writes and every replayer of
 * this cluster tombstones, plus, with {@code replayer.mirror.policy=default}, the peers' mirrored
 * topics {@code <alias><separator><prefix>dirty}, which only MirrorMaker writes. With {@code identity}
 * or {@code none} the local topic is the only one (it holds every node's keys). The merge of these
 * topics is {@link DirtySetIndex}'s (docs/two-sites.md, "Rebuilding the dirty set"); tombstones always
 * go to {@link #localDirty()}.
 *
 * <p>Immutable. Every reader of the dirty set (the service's follower, {@code replay}, {@code resolve},
 * {@code lag}, the status app) takes its topic list from here, so they cannot disagree.
 */
public record SourceTopics(TopicLayout layout, List<String> peerAliases, String separator) {
    public SourceTopics {
        peerAliases = List.copyOf(peerAliases);
    }

    /** The topics {@code config} reads: replayer.topic.prefix and replayer.mirror.*. */
    public static SourceTopics of(ReplayerConfig config) {
        return of(new TopicLayout(config.topicPrefix()), config.mirror());
    }

    public static SourceTopics of(TopicLayout layout, ReplayerConfig.Mirror mirror) {
        List<String> aliases = mirror.policy().equals("default") ? mirror.peerAliases() : List.of();
        return new SourceTopics(layout, aliases, mirror.separator());
    }

    /** One cluster, nothing mirrored (or the identity policy): the local topics only. */
    public static SourceTopics local(TopicLayout layout) {
        return new SourceTopics(layout, List.of(), ".");
    }

    /** One dirty topic named {@code dirtyTopic} ({@code <prefix>dirty}), nothing mirrored. */
    public static SourceTopics ofDirtyTopic(String dirtyTopic) {
        if (!dirtyTopic.endsWith("dirty")) {
            throw new IllegalArgumentException("'" + dirtyTopic + "' is not a dirty topic name (<prefix>dirty)");
        }
        return local(new TopicLayout(dirtyTopic.substring(0, dirtyTopic.length() - "dirty".length())));
    }

    /** The dirty topic of this cluster: the local facility's records, and where this replayer's tombstones go. */
    public String localDirty() {
        return layout.dirty();
    }

    /** The mirrored dirty topics of the peers, in alias order; empty unless the policy is {@code default}. */
    public List<String> mirroredDirty() {
        return peerAliases.stream().map(a -> a + separator + layout.dirty()).toList();
    }

    /** Every dirty topic to read: the local one first, then the mirrored ones. */
    public List<String> dirty() {
        List<String> all = new ArrayList<>();
        all.add(localDirty());
        all.addAll(mirroredDirty());
        return List.copyOf(all);
    }

    /** Every events topic to read: the local one first, then the mirrored ones (for the status app). */
    public List<String> events() {
        List<String> all = new ArrayList<>();
        all.add(layout.events());
        peerAliases.forEach(a -> all.add(a + separator + layout.events()));
        return List.copyOf(all);
    }

    /** The MirrorMaker heartbeats topic through which {@code alias}'s cluster reaches this one: its age is the mirror's delay. */
    public String heartbeats(String alias) {
        return alias + separator + "heartbeats";
    }

    /** True when {@code topic} is a mirrored one (written by MirrorMaker only; never tombstoned by a replayer). */
    public boolean isMirrored(String topic) {
        return mirroredDirty().contains(topic);
    }
}
