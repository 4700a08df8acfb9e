"""SnakeBridge's Python engine: the worker side of the Elixir bridge.

The Elixir package starts workers itself; import this package only to use the names
below from Python code that Elixir calls (e.g. to catch `ElixirError`).
"""

from snakebridge._callbacks import ElixirFunction
from snakebridge._errors import CallbackOwnerGone, CallCancelled, ElixirError, RefError

__all__ = ["CallCancelled", "CallbackOwnerGone", "ElixirError", "ElixirFunction", "RefError"]
