"""A WSGI function passed where an ASGI app is expected (a mistake the declaration catches)."""

import plait as union


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


app = union.app.App(name="wsgi-by-mistake", framework_app=wsgi_app)
