"""Translation metrics, computed by sacrebleu on detokenized text."""

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
