package dev.treepo.model.train;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns PyTorch autograd recording off on the current thread until closed, then restores the
 * previous mode.
 *
 * <p>Grad mode is thread-local in libtorch and enabled by default on every thread except the one
 * that started DJL's engine. Without this scope, a forward pass over parameters that require
 * gradients builds a graph, and an in-place update of such a parameter fails.
 */
final class NoGradScope implements AutoCloseable {

    private final boolean previous;

    NoGradScope() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
