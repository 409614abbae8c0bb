"""A tiny web app: the code the image runs."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "hello"
