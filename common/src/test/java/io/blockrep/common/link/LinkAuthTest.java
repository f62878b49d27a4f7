package io.blockrep.common.link;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LinkAuthTest {
    private final SharedSecret secret = SharedSecret.of("correct horse battery staple");
    private final byte[] nonce = LinkAuth.newNonce();

    @Test
    void proofVerifiesWithTheSameSecretNonceAndIds() {
        byte[] proof = LinkAuth.prove(secret, nonce, "site-a", "site-b");
        assertThat(proof).hasSize(32);
        assertThat(LinkAuth.verify(secret, nonce, "site-a", "site-b", proof)).isTrue();
    }

    @Test
    void proofFailsForAnotherSecretNonceOrDirection() {
        byte[] proof = LinkAuth.prove(secret, nonce, "site-a", "site-b");
        assertThat(LinkAuth.verify(SharedSecret.of("not the right secret!"), nonce, "site-a", "site-b", proof)).isFalse();
        assertThat(LinkAuth.verify(secret, LinkAuth.newNonce(), "site-a", "site-b", proof)).isFalse();
        assertThat(LinkAuth.verify(secret, nonce, "site-b", "site-a", proof)).as("reflected proof").isFalse();
    }

    @Test
    void idsAreLengthDelimitedSoTheyCannotBeShiftedAcrossTheBoundary() {
        byte[] proof = LinkAuth.prove(secret, nonce, "site-a", "b");
        assertThat(LinkAuth.verify(secret, nonce, "site-", "ab", proof)).isFalse();
    }

    @Test
    void secretNeverPrints() {
        assertThat(secret.toString()).doesNotContain("horse");
    }
}
