"""The API's JSON conversion is the core's one encoder (`products.serialization`), re-exported here."""

from products.serialization import jsonable

__all__ = ["jsonable"]
