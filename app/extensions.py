"""Extension objects, bound to the app in create_app with init_app."""

from flask_smorest import Api as _Api

from app.errors import http_exception_response


class Api(_Api):
    """flask-smorest's Api, answering errors as problem+json like the rest."""

    def handle_http_exception(self, error):
        return http_exception_response(error)


api = Api()
