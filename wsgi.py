"""Entry point: `app` for gunicorn and the flask CLI."""
from core.app import create_app

app = create_app()
