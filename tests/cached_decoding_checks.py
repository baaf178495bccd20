"""The decoding checks of an encoder-decoder with step-by-step decoding: `TextToTextContract`
runs them on every text-to-text family's models, and a family's own tests on more."""

import numpy as np
import tensorflow as tf

import zoo
from tests.test_case import step_by_step_logits, teacher_forced_batch


def check_cached_decoding_equals_teacher_forcing(
    model, sources, targets, logits_atol=1e-4, rows_sum_to_one=True
):
    """Step-by-step logits and cross-attention equal the teacher-forced pass's; the weights
    of each row fall on real source tokens only, and (`rows_sum_to_one`) sum to one."""
    x, _, _ = teacher_forced_batch(model, sources, targets)
    logits, weights = step_by_step_logits(model.backbone, x, return_attention=True)
    real = x["decoder_padding_mask"]  # padded positions are never decoded
    np.testing.assert_allclose(logits[real], model.backbone(x).numpy()[real], atol=logits_atol)
    teacher_forced_weights = model.backbone.attention_weights(x).numpy()
    for layer, teacher_forced in zip(
        by_layer(weights), by_layer(teacher_forced_weights), strict=True
    ):
        np.testing.assert_allclose(layer[real], teacher_forced[real], atol=1e-5)
        assert (layer[~x["encoder_padding_mask"][:, None, :] & real[:, :, None]] == 0).all()
        if rows_sum_to_one:
            np.testing.assert_allclose(layer[real].sum(-1), 1.0, atol=1e-5)


def by_layer(weights):
    """Attention weights [batch, target, source], or [batch, layers, target, source] for a
    decoder that shows each layer's, as a list of [batch, target, source] maps."""
    return [weights] if weights.ndim == 3 else list(np.moveaxis(weights, 1, 0))


def check_no_future_leak(model, sources, targets):
    """Changing the target tokens after position t leaves the logits up to t unchanged."""
    x, _, _ = teacher_forced_batch(model, sources, targets)
    logits = model.backbone(x).numpy()
    rng = np.random.default_rng(0)
    for t in range(x["decoder_token_ids"].shape[1] - 1):
        changed = dict(x, decoder_token_ids=x["decoder_token_ids"].copy())
        future = changed["decoder_token_ids"][:, t + 1 :]
        future[:] = rng.integers(4, model.target_vectorizer.vocabulary_size, future.shape)
        changed_logits = model.backbone(changed).numpy()
        np.testing.assert_allclose(changed_logits[:, : t + 1], logits[:, : t + 1], atol=1e-5)
        assert not np.allclose(changed_logits[:, t + 1 :], logits[:, t + 1 :], atol=1e-3)


def check_source_padding_changes_nothing(model, sources, targets):
    """Extra source padding changes neither the logits nor the decoded outputs."""
    x, _, _ = teacher_forced_batch(model, sources, targets)
    extra = 5  # more padding than the batch needs
    padded = dict(
        x,
        encoder_token_ids=np.pad(x["encoder_token_ids"], [(0, 0), (0, extra)]),
        encoder_padding_mask=np.pad(x["encoder_padding_mask"], [(0, 0), (0, extra)]),
    )
    real = x["decoder_padding_mask"]
    np.testing.assert_allclose(
        model.backbone(padded).numpy()[real], model.backbone(x).numpy()[real], atol=1e-5
    )
    # The decoded outputs: each source alone, and padded in a batch with the longest.
    alone = [model.predict(source, sampler="beam") for source in sources]
    assert model.predict(sources, sampler="beam") == alone


def check_greedy_decoding_equals_repeated_full_passes(model, sources, targets, length=12):
    """The cached decoding loop, compiled or not, picks what an uncached argmax over full
    forward passes picks."""
    x, _, _ = teacher_forced_batch(model, sources, targets)
    tokens = np.full((len(sources), 1), model.target_vectorizer.start_token_id, "int32")
    for _ in range(length):
        inputs = {
            "encoder_token_ids": x["encoder_token_ids"],
            "encoder_padding_mask": x["encoder_padding_mask"],
            "decoder_token_ids": tokens,
            "decoder_padding_mask": np.ones_like(tokens, bool),
        }
        next_tokens = model.backbone(inputs).numpy()[:, -1].argmax(-1).astype("int32")
        tokens = np.concatenate([tokens, next_tokens[:, None]], axis=1)
    sampler = zoo.decoding.GreedySampler()
    for jit_compile in (True, False):
        generate = tf.function(
            lambda ids, mask: model.generate(ids, mask, sampler, length).token_ids,
            jit_compile=jit_compile,
        )
        generated = generate(x["encoder_token_ids"], x["encoder_padding_mask"]).numpy()
        end = model.target_vectorizer.end_token_id
        for row, expected in zip(generated, tokens[:, 1:], strict=True):
            stop = list(expected).index(end) + 1 if end in expected else length
            np.testing.assert_array_equal(row[:stop], expected[:stop])


def check_compiled_and_uncompiled_decoding_agree(model, sources):
    """Greedy and beam decoding give the same outputs and scores with and without XLA."""
    texts = tf.constant(sources)
    for sampler in ("greedy", zoo.decoding.BeamSampler(num_beams=4)):
        compiled = model.text_generator(sampler, jit_compile=True)(texts)
        uncompiled = model.text_generator(sampler, jit_compile=False)(texts)
        assert compiled["outputs"].numpy().tolist() == uncompiled["outputs"].numpy().tolist()
        np.testing.assert_allclose(compiled["scores"], uncompiled["scores"], atol=1e-4)
