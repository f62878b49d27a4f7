package io.blockrep.replayer.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.blockrep.common.BlockrepException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.RetriableException;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.ReplayerConfig.Node;
import io.blockrep.replayer.ReplayerConfig.VolumeNodes;
import java.util.ArrayList;
import java.util.List;

/**
 * Which of a volume's two nodes is PRIMARY for it now, asked from both facilities' control APIs
 * ({@code GET /v1/status}, the volume's {@code role}). The ops verbs ({@code replay}, {@code verify})
 * treat it as the source and the other node as the replica.
 *
 * @param primary the node that claims PRIMARY
 * @param peer    the other node
 * @param status  the volume's entry of the primary's status document
 */
public record CurrentPrimary(Node primary, Node peer, JsonNode status) {

    /**
     * Asks both nodes. Exactly one must claim PRIMARY: neither (or one unreachable and the other
     * SECONDARY) is a {@link RetriableException}, both is an {@link InvalidInputException} naming them.
     */
    public static CurrentPrimary find(ReplayerConfig config, String volume) {
        VolumeNodes v = config.volume(volume);
        List<Node> primaries = new ArrayList<>();
        List<JsonNode> statuses = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (String id : v.nodes()) {
            Node node = config.node(id);
            try {
                JsonNode status = FacilityClient.of(node).volumeStatus(volume);
                String role = status.path("role").asText("?");
                answers.add(id + " is " + role);
                if ("PRIMARY".equals(role)) {
                    primaries.add(node);
                    statuses.add(status);
                }
            } catch (BlockrepException e) {
                answers.add(id + " did not answer (" + e.getMessage() + ")");
            }
        }
        if (primaries.size() == 2) {
            boolean splitBrain = statuses.stream().anyMatch(s -> "SPLIT_BRAIN".equals(s.path("mode").asText()));
            throw new InvalidInputException("both nodes claim PRIMARY for '" + volume + "' (" + String.join(", ", answers) + "); "
                    + (splitBrain ? "split brain: choose the surviving copy with blockrep resolve " + volume + " --primary NODE"
                            : "settle the roles first (blockrep status; blockrep demote on one side, or blockrep resolve)"));
        }
        if (primaries.isEmpty()) {
            throw new RetriableException("no node claims PRIMARY for '" + volume + "': " + String.join(", ", answers));
        }
        Node primary = primaries.get(0);
        return new CurrentPrimary(primary, config.node(v.other(primary.id())), statuses.get(0));
    }
}
