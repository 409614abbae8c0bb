"""Prints a greeting that names its dependency and the arguments it was given."""

import sys

import six

GREETING = "hello v1"


def main() -> None:
    print(GREETING, "six", six.__version__, *sys.argv[1:])
