"""Plots of what a translator attends to."""

import numpy as np


def plot_attention(source, translation, weights, *, ax=None):
    """Draws attention weights as a heatmap labelled with the tokens.

    Args:
        source: list of source token strings, or a string split on whitespace.
        translation: list of output token strings, or a string split on whitespace.
        weights: array [len(translation), len(source)]: row i is the attention of output
            token i over the source tokens.
        ax: matplotlib Axes to draw on; by default a new figure is made.

    Returns:
        The matplotlib Figure. It is not left open in pyplot, so a notebook shows it once,
        as the value of the cell.

    Example:
    >>> figure = zoo.plotting.plot_attention("the cat sat", "le chat", weights[0, :2, :3])
    >>> figure.savefig("attention.png")
    """
    source = source.split() if isinstance(source, str) else list(source)
    translation = translation.split() if isinstance(translation, str) else list(translation)
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(
            f"`weights` must be 2-D [len(translation), len(source)], got shape {weights.shape}."
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

    if ax is None:
        # Imported here so that importing zoo selects no matplotlib backend.
        import matplotlib.pyplot as plt

        figure, ax = plt.subplots(
            figsize=(1.5 + 0.45 * max(len(source), 4), 1.0 + 0.4 * max(len(translation), 4))
        )
        # Closed in pyplot so that a notebook does not also draw it at the end of the cell.
        plt.close(figure)
    else:
        figure = ax.figure

    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), labels=source, rotation=90)
    ax.set_yticks(range(len(translation)), labels=translation)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    figure.colorbar(image, ax=ax, label="attention weight")
    return figure
