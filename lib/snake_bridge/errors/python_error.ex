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
      `"ValueError" in error.bases` matches subclasses too.

  `Exception.message/1` reads like Python's last traceback line:
  `"ValueError: math domain error"`.
  """

  defexception type: nil, message: nil, traceback: "", bases: []

  @typedoc "A Python exception."
  @type t :: %__MODULE__{
          type: String.t(),
          message: String.t(),
          traceback: String.t(),
          bases: [String.t()]
        }

  @impl true
  def message(%__MODULE__{type: type, message: ""}), do: type
  def message(%__MODULE__{type: type, message: message}), do: "#{type}: #{message}"
end
