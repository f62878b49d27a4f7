package io.blockrep.replayer.status;

import io.blockrep.schemas.topic.TopicLayout;
import java.util.List;

/**
 * Where the status app reads and writes: the dirty topics (the local {@code <prefix>dirty}, later also
 * mirrored peer topics such as {@code site-a.blockrep.dirty}), the events topics, the status table and
 * the dead-letter topic. Every source topic must exist when the app starts.
 */
public record StatusTopics(List<String> dirty, List<String> events, String status, String dlq) {
    public StatusTopics {
        dirty = List.copyOf(dirty);
        events = List.copyOf(events);
        if (dirty.isEmpty() || events.isEmpty()) {
            throw new IllegalArgumentException("the status app needs at least one dirty and one events topic");
        }
        if (dirty.stream().anyMatch(events::contains)) {
            throw new IllegalArgumentException("a topic cannot be both a dirty and an events topic: " + dirty + " / " + events);
        }
    }

    /** The local topics of {@code layout}. */
    public static StatusTopics of(TopicLayout layout) {
        return new StatusTopics(List.of(layout.dirty()), List.of(layout.events()), layout.status(), layout.dlq());
    }
}
