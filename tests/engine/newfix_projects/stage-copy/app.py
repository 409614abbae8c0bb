import six

print("hello v1", six.__version__)
