"""Plots of what a translator, a memory network or a captioner attends to."""

import numpy as np


def plot_attention(
    source=None,
    translation=None,
    weights=None,
    *,
    sentences=None,
    hop_weights=None,
    layer=-1,
    ax=None,
):
    """Draws attention weights as a heatmap labelled with the tokens, or a memory network's
    hops over its story's sentences: the maps that `predict(..., return_attention=True)`
    returns go in as keywords, `zoo.plot_attention(**attention[0])`.

    Args:
        source: list of source token strings, or a string split on whitespace.
        translation: list of output token strings, or a string split on whitespace.
        weights: array [len(translation), len(source)]: row i is the attention of output
            token i over the source tokens; or [layers, len(translation), len(source)], one
            map per decoder layer (ConvS2S's `predict(..., return_attention=True)`).
        sentences: list of str, a memory network's story sentences, instead of the above.
        hop_weights: array [hops, len(sentences)]: each hop's attention over the sentences,
            drawn one column per hop beside the sentences.
        layer: int, the layer drawn when `weights` has one map per layer: the last by
            default.
        ax: matplotlib Axes to draw on; by default a new figure is made.

    Returns:
        The matplotlib Figure. It is not left open in pyplot, so a notebook shows it once,
        as the value of the cell.

    Example:
    >>> figure = zoo.plotting.plot_attention("the cat sat", "le chat", weights[0, :2, :3])
    >>> figure.savefig("attention.png")
    >>> answer, attention = memory_network.predict(story, question, return_attention=True)
    >>> zoo.plot_attention(**attention)  # sentences down, hops across
    """
    if sentences is not None or hop_weights is not None:
        translation_maps = {"source": source, "translation": translation, "weights": weights}
        given = [name for name, value in translation_maps.items() if value is not None]
        if given or sentences is None or hop_weights is None:
            raise ValueError(
                "Give either `source`, `translation` and `weights`, or `sentences` and "
                f"`hop_weights` (a memory network's), not a mix: got {given} with "
                f"sentences={sentences is not None}, hop_weights={hop_weights is not None}."
            )
        return _plot_hops(list(sentences), np.asarray(hop_weights), ax)
    source = source.split() if isinstance(source, str) else list(source)
    translation = translation.split() if isinstance(translation, str) else list(translation)
    weights = np.asarray(weights)
    if weights.ndim == 3:
        if not isinstance(layer, int) or not -len(weights) <= layer < len(weights):
            raise ValueError(
                f"`layer` must be an int index of the {len(weights)} layers, got {layer!r}."
            )
        weights = weights[layer]
    if weights.ndim != 2:
        raise ValueError(
            "`weights` must be 2-D [len(translation), len(source)] or 3-D [layers, "
            f"len(translation), len(source)], got shape {weights.shape}."
        )
    if weights.shape[0] != len(translation):
        raise ValueError(
            f"`weights` has {weights.shape[0]} rows but `translation` has "
            f"{len(translation)} tokens."
        )
    if weights.shape[1] != len(source):
        raise ValueError(
            f"`weights` has {weights.shape[1]} columns but `source` has {len(source)} tokens."
        )

    size = (1.5 + 0.45 * max(len(source), 4), 1.0 + 0.4 * max(len(translation), 4))
    return _heatmap(weights, (source, "source"), (translation, "translation"), ax, size, 90)


def _plot_hops(sentences, hop_weights, ax):
    """A memory network's attention: one row per sentence, one column per hop."""
    if hop_weights.ndim != 2 or hop_weights.shape[1] != len(sentences):
        raise ValueError(
            f"`hop_weights` must be [hops, len(sentences)] = [hops, {len(sentences)}], got "
            f"shape {hop_weights.shape}."
        )
    hops = len(hop_weights)
    longest = max(map(len, sentences), default=10)
    size = (3.0 + 0.09 * longest + 0.6 * hops, 1.0 + 0.35 * len(sentences))
    hop_names = [f"hop {index + 1}" for index in range(hops)]
    return _heatmap(hop_weights.T, (hop_names, "hop"), (sentences, "story sentence"), ax, size)


def _heatmap(weights, columns, rows, ax, size, column_rotation=0):
    """Draws weights in [0, 1], [rows, columns], each axis labelled by (tick labels, title),
    on `ax` or on a new figure of `size` inches; returns the figure."""
    if ax is None:
        # Imported here so that importing zoo selects no matplotlib backend.
        import matplotlib.pyplot as plt

        figure, ax = plt.subplots(figsize=size)
        # Closed in pyplot so that a notebook does not also draw it at the end of the cell.
        plt.close(figure)
    figure = ax.figure
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns[0])), labels=columns[0], rotation=column_rotation)
    ax.set_yticks(range(len(rows[0])), labels=rows[0])
    ax.set_xlabel(columns[1])
    ax.set_ylabel(rows[1])
    figure.colorbar(image, ax=ax, label="attention weight")
    return figure


def plot_caption_attention(image, caption, weights, *, columns=5, alpha=0.6):
    """Draws the image once per word of a caption, overlaid with where that word attended.

    Args:
        image: uint8 array [height, width, 3] (or [height, width, 1]), the captioned image.
        caption: list of token strings, or a string split on whitespace.
        weights: array [len(caption), grid_height, grid_width]: word i's attention over the
            encoder's feature grid, stretched over the whole image (bilinearly smoothed).
        columns: int, panels per row.
        alpha: float in [0, 1], the opacity of the attention overlay.

    Returns:
        The matplotlib Figure, not left open in pyplot (a notebook shows it once).

    Example:
    >>> captions, attention = model.predict(images[:1], return_attention=True)
    >>> figure = zoo.plot_caption_attention(images[0], **attention[0])
    >>> figure.savefig("caption_attention.png")
    """
    caption = caption.split() if isinstance(caption, str) else list(caption)
    image = np.asarray(image)
    weights = np.asarray(weights)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            f"`image` must be one image [height, width, 3] (or 1 channel), got shape {image.shape}."
        )
    if weights.ndim != 3:
        raise ValueError(
            f"`weights` must be 3-D [len(caption), grid_height, grid_width], got shape "
            f"{weights.shape}."
        )
    if weights.shape[0] != len(caption):
        raise ValueError(
            f"`weights` has {weights.shape[0]} rows but `caption` has {len(caption)} tokens."
        )
    # Imported here so that importing zoo selects no matplotlib backend.
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(caption) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), squeeze=False)
    plt.close(figure)
    height, width = image.shape[:2]
    shown = image[..., 0] if image.shape[-1] == 1 else image
    for ax in axes.flat:
        ax.axis("off")
    for ax, word, word_weights in zip(axes.flat, caption, weights, strict=False):
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        ax.imshow(
            word_weights,
            cmap="viridis",
            alpha=alpha,
            extent=(0, width, height, 0),
            interpolation="bilinear",
            vmin=0.0,
        )
        ax.set_title(word)
    return figure


def plot_segmentation(image, mask, *, class_names=None, alpha=0.5, ax=None):
    """Draws an image with its mask of class ids overlaid, one colour per class.

    Args:
        image: uint8 array [height, width, 3] (or [height, width, 1]).
        mask: integer array [height, width], class ids (as `predict` returns them, or the
            true mask); the background (class 0) is left uncoloured.
        class_names: None or a list of str, one per class id, for the legend
            (`model.class_names`).
        alpha: float in [0, 1], the opacity of the overlay.
        ax: None (a new figure) or a matplotlib Axes to draw on.

    Returns:
        The matplotlib Figure, not left open in pyplot (a notebook shows it once).

    Example:
    >>> figure = zoo.plot_segmentation(images[0], model.predict(images[0]),
    ...                                class_names=model.class_names)
    """
    image, mask = np.asarray(image), np.asarray(mask)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            f"`image` must be one image [height, width, 3] (or 1 channel), got shape {image.shape}."
        )
    if mask.shape != image.shape[:2]:
        raise ValueError(
            f"`mask` must be class ids of the image's size {image.shape[:2]}, got shape "
            f"{mask.shape}."
        )
    # Imported here so that importing zoo selects no matplotlib backend.
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if ax is None:
        figure, ax = plt.subplots(figsize=(4, 4))
        plt.close(figure)
    colours = plt.get_cmap("tab10")
    overlay = np.zeros((*mask.shape, 4))
    for class_id in np.unique(mask[mask > 0]):
        overlay[mask == class_id] = (*colours(class_id % 10)[:3], alpha)
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
    ax.imshow(overlay)
    ax.axis("off")
    if class_names is not None:
        present = [int(class_id) for class_id in np.unique(mask) if class_id > 0]
        handles = [Patch(color=colours(i % 10), label=class_names[i]) for i in present]
        ax.legend(handles=handles, loc="upper right", fontsize="small")
    return ax.figure
