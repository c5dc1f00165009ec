"""The one exception type that reaches a user as a sentence, not a traceback."""


class UserError(Exception):
    """Bad input from the user: a missing file, a malformed row, a wrong parameter.

    The message is one clear sentence. The command line prints it on stderr and
    exits with code 2; notebooks show it as is.
    """

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for it in a notebook cell: the sentence, not the frames that raised it.

        The cell still fails (papermill and nbval see the error, its name and message).
        """
        return [f"\x1b[0;31mUserError\x1b[0m: {self}"]
