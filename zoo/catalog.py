"""Named configurations: a name -> a builder and the options that define it."""

from zoo.models import (
    attention_translator,
    convs2s,
    image_captioner,
    lstm_translator,
    t5,
    transformer,
)

# The attention models share lstm-small's sizes, so figures compare the mechanism alone.
SMALL = {"embedding_dim": 128, "units": 256}

CATALOG = {
    # A quick baseline that trains in minutes on two CPU cores.
    "lstm-small": (lstm_translator, SMALL),
    # Sutskever et al. (2014): 4 layers of 1000 LSTM cells, 1000-d embeddings, reversed source.
    "lstm-sutskever": (
        lstm_translator,
        {"embedding_dim": 1000, "units": 1000, "num_layers": 4, "reverse_source": True},
    ),
    # Bahdanau et al. (2015): additive attention on the previous decoder state.
    "attention-bahdanau": (attention_translator, {**SMALL, "attention": "bahdanau"}),
    # Luong et al. (2015) global "general" attention; without input feeding the decoder runs
    # as one Keras RNN over the sequence and attends once, the fastest attention to train.
    "attention-luong-general": (attention_translator, {**SMALL, "attention": "luong-general"}),
    # The dimensions of the decoding benchmark (hidden 256, 3+3 layers, 4 heads, d_ff 1024),
    # with a shorter warm-up for small corpora such as Multi30k.
    "transformer-small": (transformer, {"warmup_steps": 1000}),
    # Vaswani et al. (2017), the base model: d_model 512, 6+6 layers, 8 heads, d_ff 2048.
    "transformer-base": (
        transformer,
        {"hidden_dim": 512, "num_layers": 6, "num_heads": 8, "intermediate_dim": 2048},
    ),
    # Raffel et al. (2020), T5-small: d_model 512, 6+6 layers, 8 heads of 64, d_ff 2048.
    "t5-small": (
        t5,
        {"hidden_dim": 512, "num_layers": 6, "num_heads": 8, "intermediate_dim": 2048},
    ),
    # T5 at transformer-small's sizes (t5's defaults: hidden 256, 3+3 layers, 4 heads,
    # d_ff 1024), so the two compare the architectures rather than their widths.
    "t5-compact": (t5, {}),
    # Gehring et al. (2017) at fairseq's fconv_iwslt_de_en sizes: 256-d embeddings, 4 encoder
    # and 3 decoder layers of 256 channels, kernel width 3.
    "convs2s-small": (convs2s, {"num_encoder_layers": 4, "num_decoder_layers": 3}),
    # Vinyals et al. (2015): the embedding of the max-pooled feature grid is the LSTM's
    # first input.
    "captioner-show-and-tell": (image_captioner, {"decoder": "show-and-tell"}),
    # Xu et al. (2015): soft attention over the feature grid, gated, with the doubly
    # stochastic penalty of weight 1.
    "captioner-show-attend-tell": (image_captioner, {"decoder": "show-attend-tell"}),
    # A Transformer decoder (2 layers, hidden 256) cross-attending to the grid, after one
    # Transformer encoder layer over it, as in the keras.io captioning example.
    "captioner-transformer": (image_captioner, {"decoder": "transformer"}),
}


def build(name, source_texts=None, target_texts=None, **overrides):
    """Builds the named configuration; keyword arguments override its options.

    `source_texts` and `target_texts` are what the builder takes first: for a captioner,
    the images and their captions.

    Example:
    >>> model = zoo.build("lstm-sutskever", sources, targets, units=256)
    """
    if name not in CATALOG:
        raise ValueError(f"Unknown model name {name!r}. Known names: {sorted(CATALOG)}.")
    builder, options = CATALOG[name]
    return builder(source_texts, target_texts, **{**options, **overrides})
