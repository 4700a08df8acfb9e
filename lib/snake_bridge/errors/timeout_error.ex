defmodule SnakeBridge.TimeoutError do
  @moduledoc """
  A call did not finish within its `:timeout`.

  The running Python call was interrupted (a `snakebridge.CallCancelled`, which is a
  `KeyboardInterrupt`, was raised in it) and the worker kept its refs. If the call did
  not yield to the interrupt within the grace period, the worker was killed and
  replaced: `:worker_restarted` is then `true`.
  """

  defexception timeout: nil, worker_restarted: false

  @typedoc "A call that timed out."
  @type t :: %__MODULE__{timeout: non_neg_integer, worker_restarted: boolean}

  @impl true
  def message(%__MODULE__{timeout: timeout, worker_restarted: restarted}) do
    suffix = if restarted, do: "; it ignored the interrupt, so the worker was replaced", else: ""
    "the Python call did not finish within #{timeout} ms and was interrupted#{suffix}"
  end
end
