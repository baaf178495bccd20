"""The named inputs every translation and captioning backbone takes."""

import keras


def translation_inputs():
    """Returns the dict of symbolic inputs of a teacher-forced translation graph."""
    return {
        "encoder_token_ids": keras.Input((None,), dtype="int32", name="encoder_token_ids"),
        "encoder_padding_mask": keras.Input((None,), dtype="bool", name="encoder_padding_mask"),
        "decoder_token_ids": keras.Input((None,), dtype="int32", name="decoder_token_ids"),
        "decoder_padding_mask": keras.Input((None,), dtype="bool", name="decoder_padding_mask"),
    }


def captioning_inputs(image_shape):
    """Returns the dict of symbolic inputs of a teacher-forced captioning graph: the
    preprocessed float images [batch, *image_shape] and the caption tokens."""
    return {
        "images": keras.Input(tuple(image_shape), dtype="float32", name="images"),
        "decoder_token_ids": keras.Input((None,), dtype="int32", name="decoder_token_ids"),
        "decoder_padding_mask": keras.Input((None,), dtype="bool", name="decoder_padding_mask"),
    }
