"""WSGI entry point for production servers (gunicorn viewer.wsgi:app)."""

from viewer.app import create_app

app = create_app()
