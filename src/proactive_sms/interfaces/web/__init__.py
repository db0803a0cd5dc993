"""The web console: server-rendered pages (Jinja2, htmx, Server-Sent Events) beside the API,
thin over the same services. `app.install_console(app)` adds it to the API's FastAPI app."""
