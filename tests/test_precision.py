"""Mixed precision as keras-hub spells it: every builder and backbone takes `dtype`, "auto"
picks by the machine, logits and softmaxes stay float32, and a bfloat16 translator learns,
decodes, saves and exports."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import (
    MEMORY_OUTPUTS,
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    numpy_masked_softmax,
    teacher_forced_batch,
    tiny_translator,
)
from zoo.datasets.keyword_documents import keyword_documents
from zoo.export import serve_in_fresh_process
from zoo.layers import (
    DoublyStochasticRegularization,
    LuongLocalAttention,
    ScaledDotProductAttention,
)

BF16 = "mixed_bfloat16"
SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]
IMAGES, CAPTIONS = zoo.datasets.shapes_captions(8, seed=0, image_size=32)
DOCUMENTS, LABELS = keyword_documents(16, seed=0)

TRANSLATOR = {"vocabulary_size": 300, "embedding_dim": 16, "units": 32}
TRANSFORMER = {"vocabulary_size": 300, "hidden_dim": 32, "num_heads": 4, "intermediate_dim": 64}
CAPTIONER = {"image_size": 32, "encoder_filters": (8, 16), "encoder_batch_norm": True}
# Each family as a tiny model, by the options that give its backbone the most kinds of layer.
FAMILIES = {
    "lstm": (
        zoo.lstm_translator,
        {"num_layers": 2, "bidirectional": True, "layer_norm": True, **TRANSLATOR},
    ),
    "bahdanau": (zoo.attention_translator, {"attention": "bahdanau", **TRANSLATOR}),
    "luong-local-input-feeding": (
        zoo.attention_translator,
        {"attention": "luong-local", "input_feeding": True, **TRANSLATOR},
    ),
    "multi-head": (zoo.attention_translator, {"attention": "multi-head", **TRANSLATOR}),
    "transformer": (zoo.transformer, {"num_layers": 1, "norm_first": True, **TRANSFORMER}),
    "t5": (
        zoo.t5,
        {"num_layers": 1, "feed_forward": "gated-gelu", "tie_embeddings": False, **TRANSFORMER},
    ),
    "show-attend-tell": (zoo.image_captioner, {"units": 32, "embedding_dim": 16, **CAPTIONER}),
    "show-and-tell": (
        zoo.image_captioner,
        {"decoder": "show-and-tell", "units": 32, "embedding_dim": 16, **CAPTIONER},
    ),
    "transformer-captioner": (
        zoo.image_captioner,
        {
            "decoder": "transformer",
            "hidden_dim": 32,
            "intermediate_dim": 64,
            "num_layers": 1,
            **CAPTIONER,
        },
    ),
    "hierarchical-attention": (
        zoo.hierarchical_attention_classifier,
        {
            "vocabulary_size": 100,
            "embedding_dim": 16,
            "units": 8,
            "max_sentences": 4,
            "max_words": 8,
        },
    ),
}


def build(family, dtype):
    """The tiny model of `family` under `dtype`."""
    builder, options = FAMILIES[family]
    if builder is zoo.image_captioner:
        data = (IMAGES, CAPTIONS)
    elif builder is zoo.hierarchical_attention_classifier:
        data = (DOCUMENTS, LABELS)
    else:
        data = (SOURCES, TARGETS)
    return builder(*data, dtype=dtype, **options)


def layer_policies(backbone):
    """The names of the dtype policies of every layer inside `backbone` (inputs aside)."""
    return {
        layer.dtype_policy.name
        for layer in backbone._flatten_layers(include_self=False)
        if not isinstance(layer, keras.layers.InputLayer)
    }


def float_dtypes(structure):
    """The dtype names of the floating tensors of a nested structure, in order."""
    dtypes = [tf.as_dtype(tensor.dtype) for tensor in tf.nest.flatten(structure)]
    return [dtype.name for dtype in dtypes if dtype.is_floating]


# === "auto" and the policy names ===
@pytest.mark.parametrize(
    ("flags", "num_gpus", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, 0, "mixed_bfloat16"),
        ({"avx2", "amx_tile", "amx_bf16"}, 0, "mixed_bfloat16"),
        ({"avx2", "avx512f", "avx512_vnni"}, 0, "float32"),
        (set(), 0, "float32"),
        ({"avx512_bf16"}, 1, "mixed_float16"),
        (set(), 2, "mixed_float16"),
    ],
)
def test_auto_picks_mixed_bfloat16_on_bfloat16_cpus_and_mixed_float16_on_gpus(
    flags, num_gpus, expected
):
    assert zoo.dtype_policy("auto", flags=flags, num_gpus=num_gpus) == expected


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t\t: fpu avx2 avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )
    flags = zoo.precision.cpu_flags(cpuinfo)
    assert flags == {"fpu", "avx2", "avx512_bf16"}
    assert zoo.dtype_policy("auto", flags=flags, num_gpus=0) == "mixed_bfloat16"
    assert zoo.precision.cpu_flags(tmp_path / "absent") == frozenset()


def test_policy_names_pass_through():
    assert zoo.dtype_policy(None) is None
    for name in ("float32", "mixed_bfloat16", "mixed_float16", "bfloat16"):
        assert zoo.dtype_policy(name) == name
    policy = keras.DTypePolicy(BF16)
    assert zoo.dtype_policy(policy) is policy


def test_unknown_policy_names_are_named():
    for bad in ("mixed_bfloat", "Auto", 16):
        with pytest.raises(ValueError, match=rf"`dtype`.*got {re.escape(repr(bad))}\."):
            zoo.dtype_policy(bad)
    with pytest.raises(ValueError, match=r"`dtype`.*'half'"):
        zoo.transformer(SOURCES, TARGETS, dtype="half", **TRANSFORMER)


# === Every builder ===
@pytest.mark.parametrize("family", FAMILIES)
def test_every_builder_computes_in_bfloat16_on_float32_weights_with_float32_logits(family):
    model = build(family, BF16)
    backbone = model.backbone
    assert backbone.dtype_policy.name == BF16
    assert keras.dtype_policies.get(backbone.get_config()["dtype"]).name == BF16
    assert layer_policies(backbone) == {BF16}
    assert {weight.dtype for weight in backbone.weights} == {"float32"}
    if isinstance(model, zoo.tasks.TextClassifier):
        x = model.preprocess(tf.constant(DOCUMENTS[:4]))
        outputs = backbone.call_with_attention(x)
        assert float_dtypes(outputs) == ["float32"] * 3  # logits and both attentions
        labels, probabilities = model.predict(DOCUMENTS[:3], return_probabilities=True)
        assert len(labels) == 3 and probabilities.dtype == np.float32
    else:
        check_bfloat16_decoding(model)


def check_bfloat16_decoding(model):
    """Float32 logits, teacher-forced and step by step; a decoding cache whose tensors keep
    their dtypes from step to step (the decoding loop needs it), the compute dtype's or,
    for the attention buffer, float32; and `predict` decodes."""
    is_captioner = isinstance(model, zoo.ImageCaptioner)
    sources = IMAGES[:4] if is_captioner else SOURCES[:4]
    x, _, _ = teacher_forced_batch(model, sources, (CAPTIONS if is_captioner else TARGETS)[:4])
    backbone = model.backbone
    assert backbone(x).dtype == "float32"
    source = x["images"] if is_captioner else x["encoder_token_ids"]
    cache = backbone.encode(
        source, x.get("encoder_padding_mask"), 3, return_attention=backbone.has_attention
    )
    start = tf.fill([4], model.target_vectorizer.start_token_id)
    logits, next_cache = backbone.step(start, cache, 0)
    assert logits.dtype == "float32"
    assert float_dtypes(next_cache) == float_dtypes(cache)
    assert set(float_dtypes(cache)) <= {"bfloat16", "float32"}
    if backbone.has_attention:
        assert cache.pop("attention_weights").dtype == "float32"
    assert set(float_dtypes(cache)) == {"bfloat16"}
    outputs, scores = model.predict(sources[:3], max_length=4, return_scores=True)
    assert len(outputs) == 3 and all(isinstance(output, str) for output in outputs)
    assert scores.dtype == np.float32 and np.isfinite(scores).all()


@pytest.fixture
def global_mixed_bfloat16():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(BF16)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def test_dtype_none_takes_the_global_policy(global_mixed_bfloat16):
    followed = tiny_translator(SOURCES, TARGETS, attention="luong-general")
    assert followed.backbone.dtype_policy.name == BF16
    assert layer_policies(followed.backbone) == {BF16}


def test_a_dtype_name_overrides_the_global_policy(global_mixed_bfloat16):
    overridden = tiny_translator(SOURCES, TARGETS, attention="luong-general", dtype="float32")
    assert overridden.backbone.dtype_policy.name == "float32"
    assert layer_policies(overridden.backbone) == {"float32"}


def test_a_backbone_reloads_under_the_policy_it_was_built_with(global_mixed_bfloat16, tmp_path):
    followed = tiny_translator(SOURCES, TARGETS, attention="luong-general")
    followed.backbone.save(tmp_path / "followed.keras")
    keras.config.set_dtype_policy("float32")
    reloaded = zoo.load(tmp_path / "followed.keras")
    assert reloaded.dtype_policy.name == BF16  # the policy it was built with
    assert layer_policies(reloaded) == {BF16}


def test_mixed_float16_scales_the_classifier_loss():
    model = build("hierarchical-attention", "mixed_float16")
    assert model.dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    model = build("hierarchical-attention", BF16)
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_mixed_float16_scales_the_seq2seq_loss():
    model = tiny_translator(SOURCES, TARGETS, dtype="mixed_float16")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


# === Float32 softmaxes ===
def test_attention_softmax_is_float32_so_float16_keeps_a_padding_row_finite():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(3, 2, 8)).astype("float32")
    values = rng.normal(size=(3, 5, 8)).astype("float32")
    padding_mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    # float16 turns the mask's -1e9 into -inf: a row of padding only would be NaN.
    context, weights = ScaledDotProductAttention(dtype="mixed_float16")(query, values, padding_mask)
    assert weights.dtype == context.dtype == "float16"
    weights = weights.numpy().astype("float32")
    scores = query @ values.transpose(0, 2, 1) / 8**0.5
    expected = numpy_masked_softmax(scores, padding_mask[:, None])
    np.testing.assert_allclose(weights, expected, atol=2e-3)
    assert (weights[1, :, 2:] == 0).all()
    np.testing.assert_allclose(weights[2], 0.2, atol=1e-3)  # uniform, finite
    assert np.isfinite(context.numpy().astype("float32")).all()


def test_local_attention_aligns_beyond_position_256_under_bfloat16():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(1, 1, 4)).astype("float32")
    values = rng.normal(size=(1, 300, 4)).astype("float32")
    layer = LuongLocalAttention("dot", window=0, predictive=False, dtype=BF16)
    # local-m: target position 257 attends to source position 257 alone, which bfloat16
    # positions (257 -> 256) would not tell from 256.
    context, weights = layer(query, values, query_start=257)
    weights = weights.numpy().astype("float32")[0, 0]
    assert np.flatnonzero(weights).tolist() == [257]
    assert weights[257] == 1.0
    np.testing.assert_allclose(context.numpy()[0, 0], values[0, 257], rtol=1e-2)


def test_doubly_stochastic_penalty_is_float32_under_bfloat16():
    rng = np.random.default_rng(0)
    # Multiples of 1/64 with rows summing to 1: exact in bfloat16, so only the penalty's
    # own arithmetic can differ from NumPy's.
    counts = rng.multinomial(64, np.full(49, 1 / 49), size=(2, 9))
    weights = (counts / 64).astype("float32")
    padding_mask = np.ones((2, 9), bool)
    padding_mask[1, 6:] = False
    layer = DoublyStochasticRegularization(1.0, dtype=BF16)
    layer(np.zeros((2, 9, 4), "float32"), weights, padding_mask)
    coverage = (weights * padding_mask[:, :, None]).sum(axis=1, dtype="float64")
    expected = ((1 - coverage) ** 2).sum() / padding_mask.sum()
    (penalty,) = layer.losses
    assert penalty.dtype == "float32"
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-6)


# === A bfloat16 translator learns, saves and exports ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = tiny_translator(attention="bahdanau", dtype=BF16)
    learning.fit_to_memorise(
        model,
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        MEMORY_OUTPUTS,
        name="bfloat16 Bahdanau translator: memorises 40 pairs",
        max_epochs=300,
    )
    return model


@learning.learning
def test_a_bfloat16_translator_memorises_the_corpus(trained):
    assert layer_policies(trained.backbone) == {BF16}
    assert {weight.dtype for weight in trained.backbone.weights} == {"float32"}
    assert trained.predict(MEMORY_SOURCES) == MEMORY_OUTPUTS


@pytest.fixture(scope="module")
def reloaded(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "bfloat16.keras"
    trained.save(path)
    return zoo.load(path)


def test_a_reloaded_model_keeps_the_policy(reloaded):
    assert reloaded.backbone.dtype_policy.name == BF16
    assert layer_policies(reloaded.backbone) == {BF16}


def test_a_reloaded_model_predicts_identically(trained, reloaded):
    outputs, scores = reloaded.predict(MEMORY_SOURCES, return_scores=True)
    expected_outputs, expected_scores = trained.predict(MEMORY_SOURCES, return_scores=True)
    assert outputs == expected_outputs == MEMORY_OUTPUTS
    np.testing.assert_array_equal(scores, expected_scores)


def test_export_equals_predict(trained, tmp_path):
    trained.export(tmp_path / "export")
    texts = MEMORY_SOURCES[:6]
    outputs, scores, attention = trained.predict(texts, return_scores=True, return_attention=True)
    served = serve_in_fresh_process(tmp_path / "export", texts, "translate_with_attention")
    assert served["outputs"][0] == outputs == MEMORY_OUTPUTS[:6]
    assert served["scores"][1] == served["attention"][1] == "float32"
    np.testing.assert_allclose(served["scores"][0], scores, atol=1e-5)
    for weights, served_weights in zip(attention, served["attention"][0], strict=True):
        rows, columns = weights["weights"].shape
        np.testing.assert_allclose(
            np.array(served_weights)[:rows, :columns], weights["weights"], atol=1e-5
        )
