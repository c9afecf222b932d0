package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.engine.PtNDArray;

import dev.treepo.model.tensor.HostTensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), bias correction and global gradient
 * norm clipping, matching {@code torch.optim.AdamW} followed by {@code clip_grad_norm_}.
 *
 * <p>One step, with g the clipped gradient and t the step count starting at 1:
 * <pre>
 *   p = p * (1 - lr * weightDecay)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * Weight decay applies to every parameter, biases and norm weights included, as in verl's FSDP
 * optimizer. Moments live in float32 in a manager owned by this object; close it to free them.
 * Not thread-safe.
 */
public final class AdamW implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdamW.class);

    public static final String EXP_AVG_PREFIX = "exp_avg.";
    public static final String EXP_AVG_SQ_PREFIX = "exp_avg_sq.";
    public static final String STEP_KEY = "step";

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double maxGradNorm;
    private double learningRate;
    private long step;

    private NDManager stateManager;
    private final Map<String, NDArray> expAvg = new HashMap<>();
    private final Map<String, NDArray> expAvgSq = new HashMap<>();

    /**
     * Creates AdamW with beta1 0.9, beta2 0.999 and eps 1e-8.
     *
     * @param maxGradNorm global L2 norm above which gradients are scaled down; 0 turns it off
     */
    public AdamW(double learningRate, double weightDecay, double maxGradNorm) {
        this(learningRate, 0.9, 0.999, 1e-8, weightDecay, maxGradNorm);
    }

    /** Creates AdamW with every hyperparameter given. */
    public AdamW(double learningRate, double beta1, double beta2, double eps, double weightDecay, double maxGradNorm) {
        requireRange("beta1", beta1, 0, 1);
        requireRange("beta2", beta2, 0, 1);
        if (!(eps > 0) || !(weightDecay >= 0) || !(maxGradNorm >= 0)
                || Double.isInfinite(weightDecay) || Double.isInfinite(maxGradNorm)) {
            throw new IllegalArgumentException("Invalid AdamW settings: eps " + eps + " must be > 0, weightDecay "
                    + weightDecay + " and maxGradNorm " + maxGradNorm + " must be finite and >= 0.");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.maxGradNorm = maxGradNorm;
        setLearningRate(learningRate);
    }

    public double learningRate() {
        return learningRate;
    }

    /** Sets the learning rate used from the next step on, for warm-up or decay schedules. */
    public void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("Invalid learning rate " + learningRate + ": expected a finite value >= 0.");
        }
        this.learningRate = learningRate;
    }

    /** Number of updates applied so far; skipped steps are not counted. */
    public long stepCount() {
        return step;
    }

    /**
     * Updates every parameter in place from its gradient ({@link NDArray#getGradient()}).
     *
     * <p>Gradients are read but not cleared; call {@link #zeroGradients} before the next backward.
     * When the global gradient norm is NaN or infinite, nothing changes (no update, no moment
     * update, no step count) and the norm is returned so the caller can report it.
     *
     * @param params float32 parameters that require gradients, by name
     * @return the global L2 norm of the gradients before clipping
     * @throws IllegalArgumentException if a parameter's shape differs from its stored moments
     */
    public double step(SortedMap<String, NDArray> params) {
        ensureState(params);
        try (NoGradScope noGrad = new NoGradScope(); NDScope stepScope = new NDScope()) {
            Map<String, NDArray> gradients = new HashMap<>();
            double squaredNorm = 0;
            for (Map.Entry<String, NDArray> entry : params.entrySet()) {
                NDArray gradient = entry.getValue().getGradient();
                gradients.put(entry.getKey(), gradient);
                try (NDScope scope = new NDScope()) {
                    squaredNorm += gradient.square().sum().toType(DataType.FLOAT64, false).getDouble();
                }
            }
            double norm = Math.sqrt(squaredNorm);
            if (!Double.isFinite(norm)) {
                LOG.warn("Skipped optimizer step {}: gradient norm is {}", step + 1, norm);
                return norm;
            }

            // Same coefficient as torch.nn.utils.clip_grad_norm_.
            double clipScale = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;
            step++;
            double biasCorrection1 = 1 - Math.pow(beta1, step);
            double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
            double stepSize = learningRate / biasCorrection1;

            for (Map.Entry<String, NDArray> entry : params.entrySet()) {
                String name = entry.getKey();
                NDArray param = entry.getValue();
                try (NDScope scope = new NDScope()) {
                    NDArray gradient = gradients.get(name);
                    if (clipScale != 1) {
                        gradient = gradient.mul((float) clipScale);
                    }
                    NDArray m = expAvg.get(name);
                    NDArray v = expAvgSq.get(name);
                    m.muli((float) beta1).addi(gradient.mul((float) (1 - beta1)));
                    v.muli((float) beta2).addi(gradient.square().muli((float) (1 - beta2)));

                    if (weightDecay > 0) {
                        param.muli((float) (1 - learningRate * weightDecay));
                    }
                    NDArray denominator = v.sqrt().divi((float) biasCorrection2Sqrt).addi((float) eps);
                    param.subi(m.div(denominator).muli((float) stepSize));
                }
            }
            return norm;
        }
    }

    /** Sets every parameter's gradient to zero, because DJL only clears its system manager's. */
    public static void zeroGradients(Map<String, NDArray> params) {
        for (NDArray param : params.values()) {
            if (param instanceof PtNDArray pytorchArray) {
                JniUtils.zeroGrad(pytorchArray);
            } else {
                try (NDArray gradient = param.getGradient()) {
                    gradient.subi(gradient);
                }
            }
        }
    }

    /**
     * Copies the optimizer state to the host: {@code exp_avg.<param>} and
     * {@code exp_avg_sq.<param>} for every parameter seen so far, and {@code step} as a scalar
     * (exact up to 2^24 steps, because it is stored as float32).
     */
    public SortedMap<String, HostTensor> exportState() {
        SortedMap<String, HostTensor> state = new TreeMap<>();
        for (Map.Entry<String, NDArray> entry : expAvg.entrySet()) {
            state.put(EXP_AVG_PREFIX + entry.getKey(), toHost(entry.getValue()));
            state.put(EXP_AVG_SQ_PREFIX + entry.getKey(), toHost(expAvgSq.get(entry.getKey())));
        }
        state.put(STEP_KEY, new HostTensor(new long[0], new float[] {step}));
        return state;
    }

    /**
     * Replaces the optimizer state with one exported by {@link #exportState()}, checked against
     * the parameters it will update.
     *
     * @throws IllegalArgumentException if the step is missing, a parameter lacks a moment, a
     *     moment's shape differs from its parameter, or a key names no parameter
     */
    public void importState(Map<String, HostTensor> state, SortedMap<String, NDArray> params) {
        HostTensor stepTensor = state.get(STEP_KEY);
        if (stepTensor == null || stepTensor.numel() != 1) {
            throw new IllegalArgumentException("Invalid optimizer state: missing scalar '" + STEP_KEY + "'.");
        }
        Set<String> unused = new HashSet<>(state.keySet());
        unused.remove(STEP_KEY);
        for (Map.Entry<String, NDArray> entry : params.entrySet()) {
            long[] shape = entry.getValue().getShape().getShape();
            for (String prefix : new String[] {EXP_AVG_PREFIX, EXP_AVG_SQ_PREFIX}) {
                String key = prefix + entry.getKey();
                HostTensor moment = state.get(key);
                if (moment == null || !moment.hasShape(shape)) {
                    throw new IllegalArgumentException("Invalid optimizer state for parameter " + entry.getKey()
                            + ": '" + key + "' is " + (moment == null ? "missing" : moment)
                            + ", expected shape " + Arrays.toString(shape) + ". Was it saved for another model?");
                }
                unused.remove(key);
            }
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("Invalid optimizer state: keys " + new TreeSet<>(unused)
                    + " name no parameter of the model.");
        }

        clearState();
        NDManager manager = stateManager(params);
        for (String name : params.keySet()) {
            expAvg.put(name, fromHost(manager, state.get(EXP_AVG_PREFIX + name)));
            expAvgSq.put(name, fromHost(manager, state.get(EXP_AVG_SQ_PREFIX + name)));
        }
        step = (long) stepTensor.data()[0];
    }

    /**
     * Drops both moments and the step count, so the next step starts as a fresh optimizer with the
     * same hyperparameters.
     */
    public void reset() {
        clearState();
        step = 0;
    }

    @Override
    public void close() {
        clearState();
        if (stateManager != null) {
            stateManager.close();
            stateManager = null;
        }
    }

    /** Creates zero moments for parameters seen for the first time and checks known shapes. */
    private void ensureState(SortedMap<String, NDArray> params) {
        NDManager manager = stateManager(params);
        for (Map.Entry<String, NDArray> entry : params.entrySet()) {
            Shape shape = entry.getValue().getShape();
            NDArray m = expAvg.get(entry.getKey());
            if (m == null) {
                m = manager.zeros(shape, DataType.FLOAT32);
                NDArray v = manager.zeros(shape, DataType.FLOAT32);
                // The moments outlive the step, so no NDScope the caller has open may close them.
                NDScope.unregister(m, v);
                expAvg.put(entry.getKey(), m);
                expAvgSq.put(entry.getKey(), v);
            } else if (!m.getShape().equals(shape)) {
                throw new IllegalArgumentException("Parameter " + entry.getKey() + " has shape " + shape
                        + " but its optimizer moments have shape " + m.getShape() + ".");
            }
        }
    }

    private NDManager stateManager(SortedMap<String, NDArray> params) {
        if (stateManager == null) {
            if (params.isEmpty()) {
                throw new IllegalArgumentException("AdamW needs at least one parameter.");
            }
            stateManager = NDManager.newBaseManager(params.values().iterator().next().getDevice());
        }
        return stateManager;
    }

    private void clearState() {
        expAvg.values().forEach(NDArray::close);
        expAvgSq.values().forEach(NDArray::close);
        expAvg.clear();
        expAvgSq.clear();
    }

    private static HostTensor toHost(NDArray array) {
        return new HostTensor(array.getShape().getShape(), array.toFloatArray());
    }

    private static NDArray fromHost(NDManager manager, HostTensor tensor) {
        NDArray array = manager.create(tensor.data(), new Shape(tensor.shape()));
        NDScope.unregister(array);
        return array;
    }

    private static void requireRange(String name, double value, double low, double high) {
        if (!(value >= low && value < high)) {
            throw new IllegalArgumentException("Invalid " + name + " " + value + ": expected a value in ["
                    + low + ", " + high + ").");
        }
    }
}
