"""A command-line app: prints a greeting that names its dependencies."""

import idna
import six

GREETING = "hello v1"

if __name__ == "__main__":
    print(GREETING, idna.encode("bücher.example").decode(), six.PY3)
