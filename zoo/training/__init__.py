"""The training data pipeline: batches of similar length, sized in examples or tokens."""
