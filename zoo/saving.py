"""Writing what a user keeps (`.keras` files, SavedModels, presets): whole, or not at all."""

import os
import pathlib
import shutil
import uuid


def write_atomically(path, write):
    """Calls `write(temporary)`, then puts `temporary` in the place of `path`.

    The temporary path lies beside `path` (same directory, so the final rename stays on one
    file system) and ends with `path`'s name, so writers that check a suffix (".keras")
    accept it. If `write` fails, `path` is left as it was (an earlier file or directory
    there survives) and the temporary is removed.

    Args:
        path: str or path-like, the file or directory to write.
        write: callable taking the temporary `pathlib.Path`, which does not exist yet.
    """
    path = pathlib.Path(os.fspath(path)).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{uuid.uuid4().hex[:8]}.partial.{path.name}")
    try:
        write(temporary)
        _replace(temporary, path)
    finally:
        _remove(temporary)


def _replace(source, target):
    if target.is_dir() and not target.is_symlink():
        # A directory cannot be renamed over a non-empty one: move the old one aside first.
        old = target.with_name(f".{uuid.uuid4().hex[:8]}.old.{target.name}")
        target.rename(old)
        source.rename(target)
        shutil.rmtree(old)
    else:
        os.replace(source, target)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def save_atomically(save, filepath, overwrite=True, **kwargs):
    """`keras.Model.save` (the bound `save`) through `write_atomically`.

    Raises:
        ValueError: `filepath` does not end in .keras.
        FileExistsError: `overwrite` is False and `filepath` exists (where Keras would ask
            on the terminal).
    """
    if not os.fspath(filepath).endswith(".keras"):
        raise ValueError(
            f"`filepath` must end in .keras (the Keras format, which holds the whole model), "
            f"got {os.fspath(filepath)!r}; `model.export(path)` writes a SavedModel."
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and `overwrite` is False.")
    write_atomically(filepath, lambda temporary: save(temporary, overwrite=True, **kwargs))
