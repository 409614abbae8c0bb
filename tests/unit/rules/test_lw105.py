import pytest

from tests.unit.rules.helpers import catches, passes

CODE = "LW105"

CATCHES = [
    ("FROM python\n", 1),
    ("FROM python:latest\n", 1),
    ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\n", 2),
    ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv /uv /bin/uv\n", 2),
    ("ARG BASE=python\nFROM $BASE\n", 2),
    ("FROM localhost:5000/app\n", 1),
    ("FROM python:3.12\nRUN --mount=from=ghcr.io/astral-sh/uv:latest,source=/uv,target=/bin/uv uv --version\n", 2),
    # a variant without a version floats across Python versions (microblog-flask, issue 13)
    ("FROM python:slim\n", 1),
    ("FROM python:alpine\n", 1),
    ("FROM python:bookworm\n", 1),
    ("FROM python:slim-bookworm AS base\nFROM base\n", 1),
    ("FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:debian /uv /bin/uv\n", 2),
    # channel tags move to each release
    ("FROM node:lts-slim\n", 1),
    ("FROM debian:stable-slim\n", 1),
    ("FROM alpine:edge\n", 1),
]
PASSES = [
    "FROM python:3.12-slim\n",
    "FROM python@sha256:" + "a" * 64 + "\n",
    "FROM python:3.12 AS base\nFROM base\nCOPY --from=base /x /x\n",
    "FROM scratch\n",
    "FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /bin/uv\n",
    "FROM localhost:5000/app:1.0\n",
    "ARG BASE\nFROM $BASE\n",
    "FROM python:3.12-slim-bookworm\n",
    "FROM python:3-alpine\n",
    "FROM python:3.14-rc-slim\n",
    "FROM node:20-alpine\n",
    "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\n",
    # a distribution's codename is its release
    "FROM debian:bookworm-slim\n",
    "FROM ubuntu:noble\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_the_message_says_why_a_variant_tag_moves():
    (f,) = catches(CODE, "FROM python:slim\n")
    assert f.message == "base image python:slim has a variant tag without a version (:slim moves to each new version, as :latest does)"
