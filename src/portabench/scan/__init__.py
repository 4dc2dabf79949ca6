"""``portabench scan``: will *my* code run on device X?

The user's files are mined for framework call sites (:mod:`portabench.mining`),
each joined with the results in one or more stores, per device. One job per module:

- :mod:`.files` finds the Python files of the paths given;
- :mod:`.model` holds the options and the result (:class:`ScanOptions`, :class:`ScanResult`);
- :mod:`.statuses` reads stores into one status per (framework, function, device);
- :mod:`.core` runs the scan (:func:`scan`): sites, statuses, the CI verdict;
- :mod:`.execute` (``--run``) runs the used-but-untested functions on local devices;
- :mod:`.text`, :mod:`.jsonout`, :mod:`.sarif`, :mod:`.html` write the result.

See docs/scan.md.
"""

from portabench.scan.core import scan
from portabench.scan.model import FAIL_ON, STATUSES, ScanOptions, ScanResult

__all__ = ["FAIL_ON", "STATUSES", "ScanOptions", "ScanResult", "scan"]
