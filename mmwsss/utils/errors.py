"""Errors in what the user gave (configs, options, data files). The tools
print their message, which names the key or file and the fix, as one
``error:`` line and exit 1 (:func:`mmwsss.apis.tool_utils.report_error`);
both are ``ValueError`` so existing handlers keep catching them."""


class ConfigError(ValueError):
    """A config value or command-line option is wrong."""


class DataError(ValueError):
    """A data file (split list, mask, CAM file) is wrong; the message names
    the file."""


class CheckpointError(ConfigError, KeyError):
    """A checkpoint does not fit the model it is loaded into (no tensor
    matches, required tensors are missing, or shapes differ); the message
    names the file and the config key or argument that gave it.

    Also a ``KeyError``: the loaders it replaced raised ``KeyError`` for
    keys that do not fit, and callers catch that.
    """

    def __str__(self) -> str:
        # the message as written, not quoted as KeyError quotes its key
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


#: What the tools report as one line instead of a traceback.
USER_ERRORS = (FileNotFoundError, ConfigError, DataError)
