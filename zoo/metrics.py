"""Metrics: BLEU for translation and captioning (sacrebleu, on detokenized text), and the
overlap scores of segmentation masks."""

import numpy as np
import sacrebleu


def corpus_bleu(hypotheses, references):
    """Corpus BLEU (0-100) of detokenized hypotheses against one reference each.

    sacrebleu's default 13a tokenization makes the figure comparable across papers; see
    `bleu_signature` for the exact settings.
    """
    return sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score


def bleu_signature():
    """The sacrebleu signature of `corpus_bleu`'s settings, for reporting."""
    metric = sacrebleu.BLEU()
    metric.corpus_score(["."], [["."]])  # sacrebleu records the reference count when scoring
    return str(metric.get_signature())


def caption_bleu(hypotheses, references, lowercase=False):
    """Corpus BLEU-1 to BLEU-4 (0-100) of captions against all references of each image.

    BLEU-n is the brevity-penalised geometric mean of the 1- to n-gram precisions, as the
    captioning papers (and coco-caption) report it; sacrebleu computes it with
    `max_ngram_order=n`, its 13a tokenization and, where an image has fewer references than
    another, skips the missing ones.

    Args:
        hypotheses: list of str, one caption per image.
        references: list, parallel to `hypotheses`, of lists of str: every reference caption
            of that image (at least one).
        lowercase: bool, whether to compare lower-cased text (for a model that writes
            lower-case captions, scored against references as written).

    Returns:
        dict with "bleu_1", "bleu_2", "bleu_3" and "bleu_4" (floats).

    Example:
    >>> scores = caption_bleu(["a dog runs on grass"], [["a dog runs on grass", "a dog"]])
    >>> round(scores["bleu_4"], 6)
    100.0
    """
    most = max(len(image_references) for image_references in references)
    # sacrebleu reads references as streams: stream k holds every image's k-th reference.
    streams = [
        [
            image_references[k] if k < len(image_references) else None
            for image_references in references
        ]
        for k in range(most)
    ]
    # `force`: caption corpora are written tokenized ("a dog runs ."), which 13a leaves as
    # it is; sacrebleu would otherwise warn that the text looks tokenized, once per order.
    return {
        f"bleu_{n}": sacrebleu.BLEU(max_ngram_order=n, lowercase=lowercase, force=True)
        .corpus_score(list(hypotheses), streams)
        .score
        for n in range(1, 5)
    }


def confusion_matrix(true_masks, predicted_masks, num_classes):
    """int64 [num_classes, num_classes]: pixels of true class i predicted as class j, over
    pairs of masks of class ids (each pair of one size)."""
    counts = np.zeros(num_classes * num_classes, dtype=np.int64)
    for true, predicted in zip(true_masks, predicted_masks, strict=True):
        pairs = true.astype(np.int64).ravel() * num_classes + predicted.ravel()
        counts += np.bincount(pairs, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def segmentation_scores(confusion):
    """Pixel accuracy, mean IoU and mean Dice of a confusion matrix.

    IoU (intersection over union, TP / (TP + FP + FN)) and Dice (2 TP / (2 TP + FP + FN))
    are averaged over the classes present in the true or the predicted masks; a class
    absent from both has no score rather than a perfect one.

    Example:
    >>> scores = segmentation_scores(np.array([[3, 1], [0, 4]]))
    >>> round(scores["mean_iou"], 4), round(scores["dice"], 4), scores["pixel_accuracy"]
    (0.775, 0.873, 0.875)
    """
    true_positives = np.diag(confusion).astype(np.float64)
    false_positives = confusion.sum(axis=0) - true_positives
    false_negatives = confusion.sum(axis=1) - true_positives
    present = (true_positives + false_positives + false_negatives) > 0
    union = (true_positives + false_positives + false_negatives)[present]
    iou = true_positives[present] / union
    dice = 2 * true_positives[present] / (union + true_positives[present])
    return {
        "pixel_accuracy": float(true_positives.sum() / confusion.sum()),
        "mean_iou": float(iou.mean()),
        "dice": float(dice.mean()),
    }
