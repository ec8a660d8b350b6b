"""The local stack: moto in server mode plus the API's real handlers behind a local gateway.

Needs the ``local`` extra (``pip install 'stepstore[local]'``).
"""

from stepstore.local.stack import LocalStack

__all__ = ["LocalStack"]
