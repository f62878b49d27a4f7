package io.blockrep.common.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SyncDecisionTest {
    private static final GenerationHistory CREATED = GenerationHistory.created();

    @Test
    void freshCopiesAreTheSameGeneration() {
        assertThat(SyncDecision.decide(CREATED, CREATED)).isEqualTo(SyncDecision.SAME);
    }

    @Test
    void theSideThatDivergedAloneIsNewerWhicheverSideItIs() {
        GenerationHistory a = CREATED.diverge("site-a", 1);
        assertThat(SyncDecision.decide(a, CREATED)).isEqualTo(SyncDecision.LOCAL_NEWER);
        assertThat(SyncDecision.decide(CREATED, a)).isEqualTo(SyncDecision.PEER_NEWER);
        GenerationHistory further = a.diverge("site-a", 2).diverge("site-a", 3);
        assertThat(SyncDecision.decide(further, CREATED)).isEqualTo(SyncDecision.LOCAL_NEWER);
    }

    @Test
    void bothDivergingFromOneGenerationIsSplitBrain() {
        GenerationHistory a = CREATED.diverge("site-a", 1);
        GenerationHistory b = CREATED.diverge("site-b", 1);
        assertThat(SyncDecision.decide(a, b)).isEqualTo(SyncDecision.SPLIT_BRAIN);
        assertThat(SyncDecision.decide(b, a)).isEqualTo(SyncDecision.SPLIT_BRAIN);
        assertThat(a.newestCommonWith(b)).isEqualTo(Generation.CREATED);
    }

    @Test
    void noCommonGenerationIsUnrelated() {
        GenerationHistory a = new GenerationHistory(List.of(new Generation(7, "a", 1)), 7, true);
        GenerationHistory b = new GenerationHistory(List.of(new Generation(9, "b", 1)), 9, true);
        assertThat(SyncDecision.decide(a, b)).isEqualTo(SyncDecision.UNRELATED);
    }

    @Test
    void adoptingTheSourceHistoryMakesBothTheSame() {
        GenerationHistory a = CREATED.diverge("site-a", 1);
        GenerationHistory adopted = GenerationHistory.adoptedFrom(a.entries());
        assertThat(SyncDecision.decide(adopted, a.markShared())).isEqualTo(SyncDecision.SAME);
        assertThat(adopted.shared()).isTrue();
    }

    @Test
    void aLoserRewoundToTheCommonGenerationBecomesOlder() {
        GenerationHistory a = CREATED.diverge("site-a", 1);
        GenerationHistory b = CREATED.diverge("site-b", 1).diverge("site-b", 2);
        GenerationHistory rewound = b.rewindTo(b.newestCommonWith(a));
        assertThat(SyncDecision.decide(a, rewound)).isEqualTo(SyncDecision.LOCAL_NEWER);
        assertThat(SyncDecision.decide(rewound, a)).isEqualTo(SyncDecision.PEER_NEWER);
        assertThatThrownBy(() -> b.rewindTo(12345)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decisionsMirrorEachOtherAndHistoryStaysBounded() {
        Random random = new Random(42);
        for (int run = 0; run < 500; run++) {
            GenerationHistory a = CREATED;
            GenerationHistory b = CREATED;
            for (int step = 0; step < 12; step++) {
                switch (random.nextInt(4)) {
                    case 0 -> a = a.diverge("a", step);
                    case 1 -> b = b.diverge("b", step);
                    case 2 -> b = GenerationHistory.adoptedFrom(a.entries());
                    default -> a = GenerationHistory.adoptedFrom(b.entries());
                }
                assertThat(a.entries()).hasSizeLessThanOrEqualTo(GenerationHistory.MAX_ENTRIES);
                assertThat(SyncDecision.decide(b, a)).isEqualTo(SyncDecision.decide(a, b).mirrored());
            }
        }
    }
}
