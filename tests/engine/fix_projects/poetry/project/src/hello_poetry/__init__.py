"""Prints a greeting that names its dependency."""

import six

GREETING = "hello v1"


def main() -> None:
    print(GREETING, "six", six.__version__)
