"""Browser journeys: each role through the pages it really uses, in Chromium against gunicorn."""
