"""The one exception type that the CLI turns into a one-line error message."""


class PortabenchError(Exception):
    """A user-facing error: bad input, unknown framework or device, corrupt store.

    The CLI prints ``portabench: error: <message>`` and exits with status 2;
    it never shows a traceback for this type.
    """
