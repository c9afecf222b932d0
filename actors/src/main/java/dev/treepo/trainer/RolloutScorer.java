package dev.treepo.trainer;

import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.model.train.TrainSequence;
import dev.treepo.rollout.TreeRoot.TreeFinished;
import dev.treepo.task.Problem;
import dev.treepo.task.RewardFunction;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeAdvantage;
import dev.treepo.tree.TreeAdvantage.Scored;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores the leaves of a rollout and computes their advantages: the step between "trees finished"
 * and "policy update". Pure: no actors, no tensors.
 */
public final class RolloutScorer {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RolloutScorer.class);

    private final Tokenizer tokenizer;
    private final RewardFunction reward;
    private final AdvantageEstimator estimator;
    private final boolean filterUniformGroups;

    public RolloutScorer(
            Tokenizer tokenizer, RewardFunction reward, AdvantageEstimator estimator, boolean filterUniformGroups) {
        this.tokenizer = tokenizer;
        this.reward = reward;
        this.estimator = estimator;
        this.filterUniformGroups = filterUniformGroups;
    }

    /**
     * Scores every leaf of {@code trees} against {@code problems} (indexed by the trees' prompt
     * index) and builds the training sequences from {@code promptTokens} plus each response.
     */
    public ScoredRollout score(List<TreeFinished> trees, List<Problem> problems, List<int[]> promptTokens) {
        List<Leaf> leaves = new ArrayList<>();
        List<Scored> scored = new ArrayList<>();
        double rewardSum = 0;
        int correct = 0;
        for (TreeFinished tree : trees) {
            Problem problem = problems.get(tree.promptIndex());
            for (Leaf leaf : tree.leaves()) {
                double r = reward.score(problem, tokenizer.decode(leaf.responseTokens()));
                rewardSum += r;
                if (r >= 1.0) {
                    correct++;
                }
                leaves.add(leaf);
                scored.add(new Scored(tree.promptIndex(), leaf.nodePath(), r, leaf.generatedTokens()));
            }
        }
        int leafCount = leaves.size();
        double rewardMean = leafCount == 0 ? 0 : rewardSum / leafCount;
        double accuracy = leafCount == 0 ? 0 : (double) correct / leafCount;

        List<Integer> kept = filterUniformGroups ? TreeAdvantage.nonUniformIndices(scored) : allIndices(leafCount);
        List<Scored> keptScored = new ArrayList<>(kept.size());
        for (int index : kept) {
            keptScored.add(scored.get(index));
        }
        double[] advantages = estimator == AdvantageEstimator.TREEPO
                ? TreeAdvantage.treepo(keptScored)
                : TreeAdvantage.grpo(keptScored);

        List<TrainSequence> sequences = new ArrayList<>(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            Leaf leaf = leaves.get(kept.get(i));
            int[] prompt = promptTokens.get(leaf.promptIndex());
            int[] tokens = new int[prompt.length + leaf.responseTokens().length];
            System.arraycopy(prompt, 0, tokens, 0, prompt.length);
            System.arraycopy(leaf.responseTokens(), 0, tokens, prompt.length, leaf.responseTokens().length);
            sequences.add(new TrainSequence(tokens, prompt.length, leaf.lossMask(), (float) advantages[i]));
            if (LOG.isDebugEnabled()) {
                LOG.debug("prompt {} leaf {} reward {} advantage {} finish {}: {}", leaf.promptIndex(), leaf.nodeId(),
                        keptScored.get(i).reward(), String.format("%.3f", advantages[i]), leaf.finishReason(),
                        tokenizer.decode(leaf.responseTokens()).replace("\n", "\\n"));
            }
        }
        int promptsKept = (int) keptScored.stream().mapToInt(Scored::groupId).distinct().count();
        return new ScoredRollout(sequences, leafCount, rewardMean, accuracy, promptsKept, trees.size());
    }

    private static List<Integer> allIndices(int count) {
        List<Integer> indices = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            indices.add(i);
        }
        return indices;
    }
}
