"""What every text-to-text family must do, written once.

A family's test module subclasses `TextToTextContract` (pytest collects the subclass's
`Test...` name) and says how its tiny models are built and which options to exercise; it
provides a module fixture `trained`: a model that memorised `memorised_sources`, as the
learning tests do. Pytest calls the class's `pytest_generate_tests` to parametrize each test
over the subclass's own option sets.
"""

import functools
import re

import keras
import numpy as np
import pytest

import zoo
from tests import learning
from tests.cached_decoding_checks import (
    check_cached_decoding_equals_teacher_forcing,
    check_compiled_and_uncompiled_decoding_agree,
    check_greedy_decoding_equals_repeated_full_passes,
    check_no_future_leak,
    check_source_padding_changes_nothing,
)
from tests.test_case import (
    MEMORY_OUTPUTS,
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    teacher_forced_batch,
    with_moved_weights,
)

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]


class TextToTextContract:
    """Cached decoding equals the teacher-forced pass, causality, blindness to source padding,
    compiled decoding, options named in errors, configs that round-trip, dropout in training
    only; and of the trained model: the memorised outputs under greedy and beam search, the
    `.keras` file and the export."""

    build = None  # the builder, as staticmethod(zoo.transformer)
    tiny = {}  # builder options of a tiny model
    options = {"default": {}}  # named option sets: each decodes as it teacher-forces
    causal_options = ("default",)  # checked for leaks from future target tokens
    padding_options = ("default",)  # checked for blindness to extra source padding
    bad_options = ()  # (options, the error message's start) pairs
    misspelt_option = {}  # an option the builder does not take, e.g. {"heads": 2}
    memorised_sources, memorised_outputs = MEMORY_SOURCES, MEMORY_OUTPUTS

    def pytest_generate_tests(self, metafunc):
        option_sets = {
            "option": list(self.options),
            "causal_option": list(self.causal_options),
            "padding_option": list(self.padding_options),
        }
        for name, values in option_sets.items():
            if name in metafunc.fixturenames:
                metafunc.parametrize(name, values)
        if "bad_option" in metafunc.fixturenames:
            metafunc.parametrize("bad_option", self.bad_options, ids=_option_id)

    @classmethod
    def tiny_model(cls, sources=SOURCES, targets=TARGETS, **options):
        keras.utils.set_random_seed(0)
        return cls.build(sources, targets, **{**cls.tiny, **options})

    @classmethod
    def random_model(cls, option="default"):
        """The tiny model with the named options, weights moved off their initial values."""
        return _random_model(cls, option)

    # === A tiny model with random weights ===
    def test_cached_decoding_equals_teacher_forcing(self, option):
        check_cached_decoding_equals_teacher_forcing(self.random_model(option), SOURCES, TARGETS)

    def test_no_future_leak(self, causal_option):
        check_no_future_leak(self.random_model(causal_option), SOURCES, TARGETS)

    def test_source_padding_changes_nothing(self, padding_option):
        check_source_padding_changes_nothing(self.random_model(padding_option), SOURCES, TARGETS)

    def test_greedy_decoding_equals_repeated_full_forward_passes(self):
        check_greedy_decoding_equals_repeated_full_passes(self.random_model(), SOURCES, TARGETS)

    def test_compiled_decoding_equals_uncompiled(self):
        check_compiled_and_uncompiled_decoding_agree(self.random_model(), SOURCES)

    def test_backbone_config_round_trips(self, option):
        model = self.random_model(option)
        backbone = model.backbone
        restored = type(backbone).from_config(backbone.get_config())
        assert restored.get_config() == backbone.get_config()
        restored.set_weights(backbone.get_weights())
        x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
        np.testing.assert_allclose(restored(x).numpy(), backbone(x).numpy(), atol=1e-6)

    def test_dropout_is_active_in_training_only(self):
        model = self.tiny_model(dropout=0.3)
        x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
        inference = [model.backbone(x, training=False).numpy() for _ in range(2)]
        training = [model.backbone(x, training=True).numpy() for _ in range(2)]
        np.testing.assert_array_equal(inference[0], inference[1])
        assert not np.allclose(training[0], training[1])

    def test_bad_options_raise_errors_naming_them(self, bad_option):
        options, message = bad_option
        with pytest.raises(ValueError, match=re.escape(message)):
            self.tiny_model(**options)

    def test_an_unknown_option_names_the_builder_and_its_options(self):
        name = self.build.__name__
        message = f"Unexpected arguments to `{name}`: {sorted(self.misspelt_option)}; its options"
        with pytest.raises(TypeError, match=re.escape(message)):
            self.tiny_model(**self.misspelt_option)

    # === The trained model (the module's `trained` fixture) ===
    @learning.learning
    def test_memorises_the_corpus_under_greedy_decoding(self, trained):
        assert trained.predict(self.memorised_sources) == self.memorised_outputs

    @learning.learning
    def test_memorises_the_corpus_under_beam_search(self, trained):
        assert trained.predict(self.memorised_sources, sampler="beam") == self.memorised_outputs

    def test_keras_file_round_trip_predicts_identically(self, trained, tmp_path):
        path = tmp_path / "model.keras"
        trained.save(path)
        reloaded = zoo.load(path)
        assert type(reloaded.backbone) is type(trained.backbone)
        # One vocabulary for both sides stays one.
        shared = trained.source_vectorizer is trained.target_vectorizer
        assert (reloaded.source_vectorizer is reloaded.target_vectorizer) == shared
        assert reloaded.predict(self.memorised_sources) == self.memorised_outputs
        assert reloaded.optimizer.iterations.numpy() == trained.optimizer.iterations.numpy()

    @pytest.mark.parametrize("sampler", [None, zoo.decoding.BeamSampler(num_beams=3)])
    def test_export_equals_predict_in_every_signature(self, trained, sampler, tmp_path):
        check_export_equals_predict(
            trained, tmp_path / "export", self.memorised_sources[:4], sampler
        )


@functools.cache
def _random_model(contract, option):
    return with_moved_weights(contract.tiny_model(**contract.options[option]))


def _option_id(bad_option):
    options, _ = bad_option
    return "-".join(f"{name}={value}" for name, value in options.items())
