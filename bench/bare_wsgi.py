"""A bare Flask app, the framework's own ceiling that bench/load.py measures the app against."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"


@app.get("/healthz")
def healthz():
    # tests/harness.py's Server waits for this before it hands the server over.
    return {"status": "ok"}
