package io.blockrep.schemas.registry;

/** A subject's compatibility rule, as the Confluent REST API names it. blockrep sets its subjects to {@link #BACKWARD}. */
public enum Compatibility {
    NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE
}
