"""Shared test helpers: a small corpus, tiny translators, and a client for exports."""

import keras
import numpy as np
import tensorflow as tf

import zoo
from zoo.export import serve_in_fresh_process
from zoo.text.segmentation import normalize


def _unambiguous_pairs(count, offset=5000):
    """Pairs whose English side is unique: Tatoeba often gives one sentence several
    translations, which no model could reproduce exactly."""
    sources, targets = zoo.datasets.load_translation("tatoeba", "train")
    first_translation = {}
    for source, target in zip(sources[offset:], targets[offset:], strict=True):
        first_translation.setdefault(source, target)
        if len(first_translation) == count:
            return list(first_translation), list(first_translation.values())


# Forty short pairs from the shipped corpus: small enough to memorise in seconds.
MEMORY_SOURCES, MEMORY_TARGETS = _unambiguous_pairs(40)


def normalized(texts):
    """What a model that memorised `texts` outputs: NFKC-normalised text (Tatoeba's narrow
    no-break spaces become spaces)."""
    return [text.decode() for text in normalize(tf.constant(texts)).numpy()]


MEMORY_OUTPUTS = normalized(MEMORY_TARGETS)


def tiny_translator(sources=MEMORY_SOURCES, targets=MEMORY_TARGETS, **options):
    """A small, fast-learning translator for tests (options override the defaults)."""
    options = {"vocabulary_size": 300, "embedding_dim": 32, "units": 64, **options}
    model = zoo.lstm_translator(sources, targets, **options)
    model.compile(optimizer=keras.optimizers.Adam(0.01), sampler=options.get("sampler", "greedy"))
    return model


def numpy_masked_softmax(scores, mask=None):
    """The reference softmax over the last axis, in float64: positions False in `mask` (which
    broadcasts against `scores`) get exactly zero weight, and a row without any unmasked
    position gets uniform weights, as `zoo.layers.masked_softmax` gives."""
    scores = np.asarray(scores, np.float64)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def teacher_forced_batch(model, sources, targets):
    """The (x, y, sample_weight) batch the model trains on, as NumPy."""
    x, y, sample_weight = model.preprocess(np.array(sources), np.array(targets))
    return {name: value.numpy() for name, value in x.items()}, y.numpy(), sample_weight.numpy()


def with_moved_weights(model, seed=0, scale=0.05):
    """`model` with every trainable weight moved off its initial value by Gaussian noise, so
    that none keeps a value that could hide a wrong computation (a zero bias, a unit norm
    scale). A training step would too, but its first call traces the whole training
    function: about 15 s for a tiny Transformer."""
    rng = np.random.default_rng(seed)
    for weight in model.trainable_weights:
        noise = rng.normal(0.0, scale, weight.shape).astype(weight.dtype)
        weight.assign(weight.numpy() + noise)
    return model


def step_by_step_logits(backbone, x, return_attention=False, edit_cache=None):
    """Decodes the given decoder inputs one token at a time with the cached step function.

    With `return_attention`, also returns the attention weights the cache collected,
    [batch, decoder_length, source_length] (grid cells for a captioner). `edit_cache`, if
    given, maps the cache `encode` returns to the one the steps start from.
    """
    length = x["decoder_token_ids"].shape[1]
    if "images" in x:
        encoder_inputs = (x["images"], None)
    else:
        encoder_inputs = (x["encoder_token_ids"], x["encoder_padding_mask"])
    cache = backbone.encode(*encoder_inputs, length, return_attention=return_attention)
    if edit_cache is not None:
        cache = edit_cache(cache)
    logits = []
    for index in range(length):
        step_logits, cache = backbone.step(x["decoder_token_ids"][:, index], cache, index)
        logits.append(step_logits.numpy())
    logits = np.stack(logits, axis=1)
    if not return_attention:
        return logits
    return logits, np.swapaxes(cache["attention_weights"].numpy(), -1, -2)


def check_steps_read_the_keys_projected_once(backbone, x):
    """A recurrent attention decoder's cache holds the attention keys, projected once per
    source, and every step reads them: its logits and weights equal those of steps that
    project the keys themselves (no "encoder_keys" in the cache), and its weights change
    when the cached keys do."""
    logits, weights = step_by_step_logits(backbone, x, return_attention=True)
    expected_logits, expected_weights = step_by_step_logits(
        backbone, x, return_attention=True, edit_cache=without_keys
    )
    np.testing.assert_allclose(logits, expected_logits, atol=1e-6)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)

    def scale_keys(cache):
        return {**cache, "encoder_keys": 10 * cache["encoder_keys"]}

    # Weights rather than logits: an untrained model barely uses the context.
    _, scaled_weights = step_by_step_logits(
        backbone, x, return_attention=True, edit_cache=scale_keys
    )
    assert not np.allclose(scaled_weights, weights, atol=1e-3)


def without_keys(cache):
    """A recurrent decoding cache without its "encoder_keys": each step projects them."""
    return {name: value for name, value in cache.items() if name != "encoder_keys"}


def reference_greedy_decoding(logits, encoder_inputs, vectorizer, max_length):
    """Greedy decoding by full forward passes of a reference model (keras-hub's), re-reading
    the whole prefix at each step: the start token, then the best token until the end
    token, then padding. Returns (token ids [batch, max_length], each row's sum of its
    tokens' log-probabilities), as a zoo sampler's `DecodeResult` holds them.

    Args:
        logits: a function from the backbone's input dict (NumPy) to logits [batch, length,
            vocabulary].
        encoder_inputs: dict with "encoder_token_ids" and "encoder_padding_mask" (NumPy).
        vectorizer: the target vectorizer, whose start, end and pad tokens decoding uses.
        max_length: int, tokens generated.
    """
    batch_size = len(encoder_inputs["encoder_token_ids"])
    token_ids = np.full((batch_size, 1), vectorizer.start_token_id, "int32")
    finished = np.zeros(batch_size, bool)
    scores = np.zeros(batch_size)
    for _ in range(max_length):
        x = {
            **encoder_inputs,
            "decoder_token_ids": token_ids,
            "decoder_padding_mask": np.ones_like(token_ids),
        }
        last = np.asarray(logits(x), "float64")[:, -1]
        shifted = last - last.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        best = log_probs.argmax(-1)
        scores += np.where(finished, 0.0, log_probs[np.arange(batch_size), best])
        next_token_ids = np.where(finished, vectorizer.pad_token_id, best)
        token_ids = np.concatenate([token_ids, next_token_ids[:, None]], axis=1)
        finished |= next_token_ids == vectorizer.end_token_id
    return token_ids[:, 1:], scores


def check_export_equals_predict(model, directory, texts, sampler=None):
    """Exports `model` with `sampler` as its default and checks each signature, served in a
    fresh process, against `predict` with that sampler: outputs and scores, and for the
    attention signature also the weights (zero outside the real tokens) and the tokens
    that label them."""
    model.export(directory, sampler=sampler)
    outputs, scores = model.predict(texts, sampler=sampler, return_scores=True)
    served = serve_in_fresh_process(directory, texts)
    assert set(served) == {"outputs", "scores"}
    assert served["outputs"][0] == outputs
    np.testing.assert_allclose(served["scores"][0], scores, atol=1e-4)
    if not model.has_attention:
        return
    _, attention = model.predict(texts, sampler=sampler, return_attention=True)
    served = serve_in_fresh_process(directory, texts, model.attention_signature)
    assert served["outputs"][0] == outputs
    np.testing.assert_allclose(served["scores"][0], scores, atol=1e-4)
    for row, expected in enumerate(attention):
        rows, columns = expected["weights"].shape[-2:]  # after a layers axis, if any
        weights = np.array(served["attention"][0][row])
        np.testing.assert_allclose(weights[..., :rows, :columns], expected["weights"], atol=1e-5)
        assert (weights[..., rows:, :] == 0).all() and (weights[..., columns:] == 0).all()
        assert served["source_tokens"][0][row][:columns] == expected["source"]
        assert served["output_tokens"][0][row][:rows] == expected["translation"]
