defmodule SnakeBridge.EncodeError do
  @moduledoc """
  An argument that cannot be sent to Python. Nothing was sent.

  ## Fields

    * `:path` — where the value sits, e.g. `args[1]["k"]`;
    * `:value` — the offending value;
    * `:reason` — why it cannot be sent.
  """

  defexception path: nil, value: nil, reason: nil

  @typedoc "An unencodable argument."
  @type t :: %__MODULE__{path: String.t(), value: term, reason: String.t()}

  @impl true
  def message(%__MODULE__{path: path, value: value, reason: reason}) do
    "cannot send #{inspect(value, limit: 5, printable_limit: 40)} at #{path}: #{reason}"
  end
end
