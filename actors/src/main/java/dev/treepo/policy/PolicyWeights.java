package dev.treepo.policy;

import dev.treepo.model.tensor.HostTensor;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One published version of the policy: Hugging Face parameter names mapped to float32 copies.
 *
 * <p>The trainer makes a fresh copy for every version and never touches it again, so the map can be
 * handed to workers in the same JVM without copying. Version 0 is the starting checkpoint.
 */
public record PolicyWeights(long version, SortedMap<String, HostTensor> tensors) {

    public PolicyWeights {
        if (version < 0) {
            throw new IllegalArgumentException("policy version must be >= 0, got " + version);
        }
        tensors = Collections.unmodifiableSortedMap(new TreeMap<>(tensors));
    }

    /** Returns the number of float parameters in this version. */
    public long parameterCount() {
        long count = 0;
        for (HostTensor tensor : tensors.values()) {
            count += tensor.numel();
        }
        return count;
    }
}
