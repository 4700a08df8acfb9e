defmodule SnakeBridge.PythonError do
  @moduledoc """
  A Python exception raised by the code SnakeBridge ran.

  ## Fields

    * `:type` — the exception class's qualified name; builtins are bare
      (`"ZeroDivisionError"`), others carry their module
      (`"json.decoder.JSONDecodeError"`);
    * `:message` — `str(exception)`;
    * `:traceback` — the formatted Python traceback, chained exceptions included;
    * `:bases` — qualified names along the class's MRO, so
      `"ValueError" in error.bases` matches subclasses too;
    * `:ref` — a `SnakeBridge.Ref` to the exception object itself, in the caller's
      session, for what the exception carries beyond its message (pydantic's
      `e.errors()`, an HTTP error's `response`, SQLAlchemy's `orig`). Its traceback,
      and those of the exceptions chained to it, are cleared, so it keeps no frames
      alive.

  ## Lifetime of `:ref`

  A session keeps the exception of its *last* Python error only: the ref is valid
  until the next Python error in the same session (then it gives
  `SnakeBridge.RefError` with reason `:released`), `SnakeBridge.release/1`, or the end
  of the session, so failing calls in a loop do not pile up exceptions. `:ref` is nil
  when no session could keep it (the session was released meanwhile, or is at its
  `:max_refs` cap), and a ref from a worker that has since died gives `:worker_lost`.
  `SnakeBridge.with_python/2` passes the exception behind it to `__exit__`.

  `Exception.message/1` reads like Python's last traceback line:
  `"ValueError: math domain error"`.
  """

  defexception type: nil, message: nil, traceback: "", bases: [], ref: nil

  @typedoc "A Python exception."
  @type t :: %__MODULE__{
          type: String.t(),
          message: String.t(),
          traceback: String.t(),
          bases: [String.t()],
          ref: SnakeBridge.Ref.t() | nil
        }

  @impl true
  def message(%__MODULE__{type: type, message: ""}), do: type
  def message(%__MODULE__{type: type, message: message}), do: "#{type}: #{message}"
end
