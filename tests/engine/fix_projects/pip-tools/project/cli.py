"""A command-line app: prints a greeting that names its dependency."""

import idna

GREETING = "hello v1"

if __name__ == "__main__":
    print(GREETING, idna.encode("bücher.example").decode())
