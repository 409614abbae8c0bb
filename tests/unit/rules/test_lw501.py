import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW501"

CATCHES = [
    ("FROM python:3.12\nARG PYPI_TOKEN\n", 2),
    ("FROM python:3.12\nENV DB_PASSWORD=hunter2\n", 2),
    ("FROM python:3.12\nENV SECRET_KEY=abc123\n", 2),
    ("FROM python:3.12\nARG AWS_SECRET_ACCESS_KEY\n", 2),
    # a stage no other stage uses: an image of its own (--target dev)
    ("FROM python:3.12 AS dev\nARG GITHUB_TOKEN\nFROM python:3.12\nCMD [\"x\"]\n", 2),
]
PASSES = [
    # in no image: an ARG before the first FROM, a builder stage the final stage copies from
    "ARG GITHUB_TOKEN\nFROM python:3.12\n",
    "FROM node:20 AS ui\nARG VITE_API_KEY\nENV VITE_API_KEY=$VITE_API_KEY\nRUN npm run build\n"
    "FROM python:3.12\nCOPY --from=ui /dist /dist\n",
    "FROM python:3.12\nENV GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305\n",
    "FROM python:3.12\nENV PASSWORD_FILE=/run/secrets/db\n",
    "FROM python:3.12\nARG TOKEN_URL\n",
    "FROM python:3.12\nENV APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE=1\n",
    "FROM python:3.12\nENV GOOGLE_API_KEY=no\n",
    "FROM python:3.12\nENV SSL_KEY=/etc/ssl/private/server.key\n",
    "FROM python:3.12\nENV KEYBOARD=us\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)
