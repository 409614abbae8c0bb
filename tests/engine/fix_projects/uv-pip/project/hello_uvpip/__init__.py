"""Prints a greeting that names its dependencies (idna comes with the cli extra)."""

import idna
import six

GREETING = "hello v1"


def main() -> None:
    print(GREETING, idna.encode("bücher.example").decode(), "six", six.__version__)
