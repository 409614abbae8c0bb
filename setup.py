"""Build configuration beyond pyproject.toml: the optional C accelerator of the snapshot walk.

The extension is optional: without a C compiler or Python headers the build goes on and the
walk uses its pure-Python twin (same results, slower on big trees)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "layerwise.context._fastscan",
            ["src/layerwise/context/_fastscan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
