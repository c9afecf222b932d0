package dev.treepo.cluster.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the {@code trainer_state.json} that TreePO-J writes beside each checkpoint. */
final class TrainerState {

    private TrainerState() {}

    /** Returns the saved policy version, or 0 when the file does not exist (a plain Hugging Face folder). */
    static long readPolicyVersion(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        JsonNode state = new ObjectMapper().readTree(file.toFile());
        JsonNode version = state.get("policy_version");
        if (version == null || !version.canConvertToLong() || version.asLong() < 0) {
            throw new IOException("invalid policy_version in " + file + ": expected a non-negative integer, got "
                    + version);
        }
        return version.asLong();
    }
}
