"""This process's place in a cluster, as `TF_CONFIG` (what tf.distribute reads) names it."""

import json
import os


def tf_config():
    """`TF_CONFIG` as a dict, empty outside a cluster."""
    return json.loads(os.environ.get("TF_CONFIG") or "{}")


def in_cluster():
    """Whether `TF_CONFIG` names a cluster this process is a task of."""
    return bool(tf_config().get("cluster"))


def worker_index():
    """This process's index among the workers of `TF_CONFIG`, 0 outside a cluster."""
    return int(tf_config().get("task", {}).get("index", 0))
