"""From the attention outputs of a batch of generated texts to one labelled map per input."""


def attention_maps(result, source_vectorizer, target_vectorizer):
    """Per input of a batch of the attention generator's NumPy outputs: the real source
    tokens ("source"), the generated ones ("translation") and the weights between them,
    [len(translation), len(source)] (or [layers, ...] where the backbone shows each layer's)."""
    source_pad = source_vectorizer.pad_token
    target_pad, target_end = target_vectorizer.pad_token, target_vectorizer.end_token
    maps = []
    for weights, source, translation in zip(
        result["attention"], result["source_tokens"], result["output_tokens"], strict=True
    ):
        source = decode_strings(source)
        source = source[: _count_until(source, source_pad, include=False)]
        translation = written_tokens(translation, target_end, target_pad)
        maps.append(
            {
                "source": source,
                "translation": translation,
                "weights": weights[..., : len(translation), : len(source)],
            }
        )
    return maps


def written_tokens(output_tokens, end_token, pad_token):
    """The generated tokens (array of bytes) as str, up to and including the end token."""
    tokens = decode_strings(output_tokens)
    tokens = tokens[: _count_until(tokens, end_token, include=True)]
    return tokens[: _count_until(tokens, pad_token, include=False)]


def decode_strings(array):
    """A NumPy array of UTF-8 bytes, of any rank, as nested lists of str."""
    if array.ndim == 1:
        return [text.decode("utf-8") for text in array]
    return [decode_strings(row) for row in array]


def _count_until(tokens, stop, include):
    """How many tokens come before `stop` (and including it when `include`)."""
    return tokens.index(stop) + include if stop in tokens else len(tokens)
