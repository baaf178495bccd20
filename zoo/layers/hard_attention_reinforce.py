import keras
from keras import ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class HardAttentionReinforce(keras.layers.Layer):
    """Xu et al. (2015)'s training signal for the positions a `HardAttention` drew, added
    as a model loss in training.

    A drawn position has no gradient, so the attention learns by the REINFORCE estimator of
    the paper's equation 12: each caption's drawn positions s are pushed up in proportion
    to how much better than usual the caption's log-likelihood log p(y | s, a) is, the
    "usual" being a moving average b of it over the training batches
    (b <- `baseline_decay` * b + (1 - `baseline_decay`) * batch mean), plus `entropy_weight`
    times the gradient of the attention's entropy, which keeps it exploring. Captions that
    read the expectation get only the entropy term: their attention learns
    by back-propagation.

    The log-likelihood is read from the teacher-forced graph itself: the token fed at
    position t + 1 is the target of position t. The added loss is the surrogate minus its
    own value, so it adds these gradients and nothing to the reported loss; like the
    model's token loss it is divided by the batch's real tokens. `inputs` come back
    unchanged, so the layer sits on the path to the model's outputs.

    Args:
        reinforce_weight: float >= 0, lambda_r of the paper: the weight of the REINFORCE term.
        entropy_weight: float >= 0, lambda_e: the weight of the entropy term.
        baseline_decay: float in [0, 1), the moving average's decay (the paper's 0.9).

    Call args:
        inputs: float [batch, length, vocabulary], the next-token logits.
        token_ids: int [batch, length], the decoder's input tokens.
        padding_mask: bool [batch, length], True at real positions.
        attention_weights: float [batch, length, source_length], the attention's alpha.
        read_positions: int [batch, length], the position each step read, -1 where it
            read the expectation (`HardAttention.read_positions`).

    Example:
    >>> logits = zoo.layers.HardAttentionReinforce()(
    ...     logits, decoder_token_ids, decoder_padding_mask, weights, read_positions)
    """

    def __init__(self, reinforce_weight=1.0, entropy_weight=0.01, baseline_decay=0.9, **kwargs):
        super().__init__(**kwargs)
        checks.non_negative_number(reinforce_weight, "reinforce_weight")
        checks.non_negative_number(entropy_weight, "entropy_weight")
        checks.fraction(baseline_decay, "baseline_decay")
        self.reinforce_weight = reinforce_weight
        self.entropy_weight = entropy_weight
        self.baseline_decay = baseline_decay

    def build(self, *shapes):
        self.baseline = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="baseline", dtype="float32"
        )

    def call(
        self, inputs, token_ids, padding_mask, attention_weights, read_positions, training=None
    ):
        if not training:
            return inputs
        real = ops.cast(padding_mask, "float32")
        # Caption log-likelihoods: the logits at t score the token fed at t + 1.
        log_probs = ops.log_softmax(ops.cast(inputs[:, :-1], "float32"), axis=-1)
        targets = ops.take_along_axis(log_probs, token_ids[:, 1:, None], axis=-1)[..., 0]
        rewards = ops.stop_gradient(ops.sum(targets * real[:, 1:], axis=-1))

        weights = ops.cast(attention_weights, "float32")
        log_weights = ops.log(ops.maximum(weights, 1e-30))
        drawn = ops.cast(read_positions >= 0, "float32") * real
        chosen = ops.take_along_axis(log_weights, ops.maximum(read_positions, 0)[..., None], -1)
        chosen_log_probs = ops.sum(chosen[..., 0] * drawn, axis=-1)
        entropy = -ops.sum(weights * log_weights, axis=-1)

        sampled = ops.max(drawn, axis=-1)  # captions that drew positions
        advantage = (rewards - self.baseline) * sampled
        surrogate = (
            -self.reinforce_weight * ops.sum(advantage * chosen_log_probs)
            - self.entropy_weight * ops.sum(entropy * real)
        ) / ops.maximum(ops.sum(real), 1.0)
        self.add_loss(surrogate - ops.stop_gradient(surrogate))

        batch_reward = ops.sum(rewards * sampled) / ops.maximum(ops.sum(sampled), 1.0)
        decayed = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * batch_reward
        self.baseline.assign(ops.where(ops.sum(sampled) > 0, decayed, self.baseline))
        return inputs

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "reinforce_weight": self.reinforce_weight,
            "entropy_weight": self.entropy_weight,
            "baseline_decay": self.baseline_decay,
        }
