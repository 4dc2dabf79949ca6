"""``python -m portabench.worker ...``: a worker process (see :mod:`portabench.worker.loop`)."""

import os
import sys

from portabench.worker.loop import main

status = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)  # not sys.exit: a thread a case left running must not hold the worker open
