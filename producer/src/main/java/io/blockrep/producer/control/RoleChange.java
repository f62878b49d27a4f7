package io.blockrep.producer.control;

/**
 * The result of a promote or demote: the volume's role and mode afterwards, and what the operator
 * should know (for a demotion: regions this side had dirty, which the peer may lack).
 */
public record RoleChange(String volume, String node, String role, String mode, long dirtyRegions, String note) {
}
