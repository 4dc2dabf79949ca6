"""Child process: TensorFlow's canonical export name of each listed name.

Run as ``python -m portabench.mining.export_names`` with a JSON list of
qualified names (``tensorflow.reduce_sum``...) on stdin; prints one JSON object
``{alias: canonical}`` for names whose TensorFlow export name differs
(``tensorflow.reduce_sum`` -> ``tensorflow.math.reduce_sum``). This module
imports TensorFlow, so only a child process runs it (:func:`portabench.mining.listing.fetch_listing`);
the parent never imports it. ``tensorflow.compat.v1`` names are left alone (another API).
"""

from __future__ import annotations

import json
import sys


def canonical_aliases(names: list[str]) -> dict[str, str]:
    """``{alias: canonical}`` for each name whose canonical export name is another listed name."""
    import tensorflow as tf
    from tensorflow.python.util import tf_export

    listed = set(names)
    out: dict[str, str] = {}
    for name in names:
        if not name.startswith("tensorflow.") or name.startswith("tensorflow.compat."):
            continue
        obj = tf
        try:
            for part in name.split(".")[1:]:
                obj = getattr(obj, part)
            canonical = tf_export.get_canonical_name_for_symbol(obj)
        except Exception:  # a lazy attribute that does not load, a method of a class
            continue
        if canonical and f"tensorflow.{canonical}" != name and f"tensorflow.{canonical}" in listed:
            out[name] = f"tensorflow.{canonical}"
    return out


def main() -> int:
    names = json.loads(sys.stdin.read())
    print(json.dumps(canonical_aliases(list(names))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
