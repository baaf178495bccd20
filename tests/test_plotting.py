import io

import matplotlib
import numpy as np
import pytest

from zoo.plotting import plot_attention

matplotlib.use("Agg")

SOURCE = ["the", "cat", "sat", "."]
TRANSLATION = ["le", "chat", "s'est", "assis", "."]
WEIGHTS = np.random.default_rng(0).dirichlet(np.ones(len(SOURCE)), size=len(TRANSLATION))


def tick_labels(labels):
    return [label.get_text() for label in labels]


def test_plot_attention_draws_the_weights_labelled_with_the_tokens():
    figure = plot_attention(SOURCE, TRANSLATION, WEIGHTS)
    heatmap, colorbar = figure.axes
    assert tick_labels(heatmap.get_xticklabels()) == SOURCE
    assert tick_labels(heatmap.get_yticklabels()) == TRANSLATION
    assert all(label.get_rotation() == 90 for label in heatmap.get_xticklabels())
    np.testing.assert_array_equal(heatmap.images[0].get_array(), WEIGHTS)
    assert heatmap.images[0].get_clim() == (0.0, 1.0)
    assert colorbar.get_ylim() == (0.0, 1.0)

    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.getvalue()) > 5000


def test_plot_attention_splits_strings_into_tokens():
    heatmap = plot_attention(" ".join(SOURCE), " ".join(TRANSLATION), WEIGHTS).axes[0]
    assert tick_labels(heatmap.get_xticklabels()) == SOURCE
    assert tick_labels(heatmap.get_yticklabels()) == TRANSLATION


def test_plot_attention_draws_on_a_given_axes():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    plt.close(figure)
    assert plot_attention(SOURCE, TRANSLATION, WEIGHTS, ax=ax) is figure
    assert tick_labels(ax.get_xticklabels()) == SOURCE
    assert tick_labels(ax.get_yticklabels()) == TRANSLATION


def test_plot_attention_rejects_weights_that_do_not_fit_the_tokens():
    with pytest.raises(ValueError, match=r"`weights` has 5 rows but `translation` has 4"):
        plot_attention(SOURCE, TRANSLATION[:4], WEIGHTS)
    with pytest.raises(ValueError, match=r"`weights` has 4 columns but `source` has 3"):
        plot_attention(SOURCE[:3], TRANSLATION, WEIGHTS)
    with pytest.raises(ValueError, match=r"`weights` must be 2-D.*\(1, 1, 5, 4\)"):
        plot_attention(SOURCE, TRANSLATION, WEIGHTS[None, None])
    with pytest.raises(ValueError, match=r"`layer` must be an int index of the 2 layers, got 2"):
        plot_attention(SOURCE, TRANSLATION, np.stack([WEIGHTS, WEIGHTS]), layer=2)


def test_plot_attention_draws_the_last_layer_of_per_layer_weights_unless_told():
    layers = np.stack([WEIGHTS, WEIGHTS[::-1]])
    for layer, expected in [(-1, WEIGHTS[::-1]), (0, WEIGHTS)]:
        figure = plot_attention(SOURCE, TRANSLATION, layers, layer=layer)
        np.testing.assert_array_equal(figure.axes[0].images[0].get_array(), expected)


SENTENCES = ["Mary went to the office.", "John took the apple.", "Mary dropped the milk."]
HOP_WEIGHTS = np.random.default_rng(1).dirichlet(np.ones(len(SENTENCES)), size=3)


def test_plot_attention_draws_a_memory_networks_hops_over_its_sentences():
    figure = plot_attention(sentences=SENTENCES, hop_weights=HOP_WEIGHTS)
    heatmap, _ = figure.axes
    assert tick_labels(heatmap.get_yticklabels()) == SENTENCES
    assert tick_labels(heatmap.get_xticklabels()) == ["hop 1", "hop 2", "hop 3"]
    # One column per hop: column h is hop h's attention over the sentences.
    np.testing.assert_array_equal(heatmap.images[0].get_array(), HOP_WEIGHTS.T)


def test_plot_attention_rejects_hop_weights_that_do_not_fit_or_mixed_maps():
    with pytest.raises(ValueError, match=r"must be .*\[hops, 2\], got shape \(3, 3\)"):
        plot_attention(sentences=SENTENCES[:2], hop_weights=HOP_WEIGHTS)
    with pytest.raises(ValueError, match=r"not a mix: got \['weights'\]"):
        plot_attention(weights=WEIGHTS, sentences=SENTENCES, hop_weights=HOP_WEIGHTS)
    with pytest.raises(ValueError, match="hop_weights=False"):
        plot_attention(sentences=SENTENCES)
