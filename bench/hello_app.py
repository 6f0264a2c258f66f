"""What the registration benchmark serves: the portal as deployed, plus ``GET /hello``.

The target compares registrations with "a plain hello route of the same app":
the same Flask app, configuration, hooks and response headers, with a view that
only returns a word (``/healthz`` also runs ``SELECT 1``, so it is not plain).
The route is added here, never in the portal itself.
"""

from portal import create_app

app = create_app()


@app.get("/hello")
def hello() -> str:
    return "hello"
