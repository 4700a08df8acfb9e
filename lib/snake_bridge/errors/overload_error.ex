defmodule SnakeBridge.OverloadError do
  @moduledoc """
  The worker's queue is full (`:max_queue` requests already wait on it), so the call
  was refused without being sent.
  """

  defexception pool: nil, worker: nil, queued: 0

  @typedoc "A refused call."
  @type t :: %__MODULE__{pool: atom, worker: non_neg_integer, queued: non_neg_integer}

  @impl true
  def message(%__MODULE__{} = error) do
    "worker #{error.worker} of pool #{inspect(error.pool)} has #{error.queued} requests queued " <>
      "(the :max_queue limit); retry later or raise the limit"
  end
end
