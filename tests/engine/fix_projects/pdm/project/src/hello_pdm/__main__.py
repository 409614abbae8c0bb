import six

GREETING = "hello v1"

print(GREETING, "six", six.__version__)
