defmodule SnakeBridge.WorkerCrashError do
  @moduledoc """
  The worker process running the call died (`os._exit`, a segfault, `kill -9`, an
  abort, or a failed start). Other workers are untouched and a replacement starts.

  ## Fields

    * `:status` — the exit status, or `nil` if a signal killed it;
    * `:signal` — the signal number that killed it, or `nil`;
    * `:stderr` — the last lines the worker wrote to stderr;
    * `:reason` — a sentence for the cases without an exit (e.g. a start failure);
    * `:node` — for a worker on another node (see `SnakeBridge.Pool`), the node, if
      it went down or became unreachable (calls in flight on it fail with this
      error); `nil` otherwise.
  """

  defexception status: nil, signal: nil, stderr: "", reason: nil, node: nil

  @typedoc "A dead worker."
  @type t :: %__MODULE__{
          status: integer | nil,
          signal: pos_integer | nil,
          stderr: String.t(),
          reason: String.t() | nil,
          node: node | nil
        }

  @impl true
  def message(%__MODULE__{} = error) do
    how =
      cond do
        error.signal -> "was killed by signal #{error.signal}"
        error.status -> "exited with status #{error.status}"
        true -> "stopped: #{error.reason}"
      end

    case error.stderr do
      "" -> "the Python worker #{how}"
      stderr -> "the Python worker #{how}; last stderr lines:\n#{stderr}"
    end
  end
end
