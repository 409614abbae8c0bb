import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW305"


def test_env_file_copied():
    (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": "", ".env": "PASSWORD=x\n"}, line=2)
    assert ".env" in f.message


def test_key_copied_by_folder_copy():
    catches(CODE, "FROM python:3.12\nCOPY certs /certs\n", {".dockerignore": "", "certs/server.key": "k"}, line=2)


def test_excluded():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": ".env\n", ".env": "PASSWORD=x\n"})


def test_example_env_is_fine():
    passes(CODE, "FROM python:3.12\nCOPY . .\n", {".dockerignore": "", ".env.example": "PASSWORD=\n"})


# Names that are as often harmless: the text decides (paperless-ngx's and redash's .npmrc, redash's
# CA bundle were reported as secrets).
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PRIVATE = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
CONTENT_CASES = [
    (".npmrc", "shamefully-hoist=true\nauto-install-peers=true\n", False),
    (".npmrc", "//npm.example.com/:_authToken=${NPM_TOKEN}\n", False),
    (".npmrc", "//npm.example.com/:_authToken=npm_abcdef123\n", True),
    (".npmrc", "_auth = dXNlcjpwYXNz\n", True),
    ("certs/ca-bundle.pem", CERT * 3, False),
    ("certs/server.pem", CERT + PRIVATE, True),
    ("certs/server.key", PRIVATE, True),
    ("certs/public.key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n", False),
    ("certs/server.key", "\x00\x01binary DER", True),
    (".pypirc", "[distutils]\nindex-servers = pypi\n[pypi]\nusername = __token__\n", False),
    (".pypirc", "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n", True),
    (".netrc", "machine example.com login me password hunter2\n", True),
]


@pytest.mark.parametrize("name,text,secret", CONTENT_CASES)
def test_text_decides_for_names_often_harmless(name, text, secret):
    files = {".dockerignore": "", name: text}
    if secret:
        (f,) = catches(CODE, "FROM python:3.12\nCOPY . .\n", files, line=2)
        assert name in f.message
        assert text.split("\n")[0] not in f.message  # the text is never shown
    else:
        passes(CODE, "FROM python:3.12\nCOPY . .\n", files)
