"""CI definitions that build the project's images: GitHub Actions workflows and GitLab CI.

:func:`load_ci` finds the CI files of the repository around a build context, parses them with a
YAML library that keeps positions (ruamel.yaml, round-trip mode), and returns every image build
they run (:class:`CiBuild`): a ``docker/build-push-action`` step with its ``with:`` inputs, or a
``docker build`` / ``docker buildx build`` / ``docker compose build`` command in a ``run:`` or
``script:``. Each build is tied to the Dockerfile, context, target, build args and cache settings
it uses, with the place of each input in its file, so that rules report at the CI file's own
``file:line:column`` and fixes edit its text minimally.

GitHub expressions (``${{ ... }}``) and shell variables stay opaque: a value that holds one is
unknown (``None``), never guessed. Invalid YAML, alias bombs and oversized files give a located
:class:`CiError`, never a traceback or a hang.
"""

from layerwise.ci.project import ci_files, load_ci, repository_root

_MODEL = ("CacheSpec", "CiBuild", "CiError", "CiProject", "Pos")


def __getattr__(name: str):
    """The CI model's classes, imported on first use: finding that a repository has no CI
    file (:func:`ci_files`) imports neither them nor the YAML reader."""
    if name in _MODEL:
        from layerwise.ci import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["CacheSpec", "CiBuild", "CiError", "CiProject", "Pos", "ci_files", "load_ci", "repository_root"]
