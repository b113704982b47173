"""Errors in what the user gave (configs, options, data files). The tools
print their message, which names the key or file and the fix, as one
``error:`` line and exit 1 (:func:`mmwsss.apis.tool_utils.report_error`);
both are ``ValueError`` so existing handlers keep catching them."""


class ConfigError(ValueError):
    """A config value or command-line option is wrong."""


class DataError(ValueError):
    """A data file (split list, mask, CAM file) is wrong; the message names
    the file."""


#: What the tools report as one line instead of a traceback.
USER_ERRORS = (FileNotFoundError, ConfigError, DataError)
