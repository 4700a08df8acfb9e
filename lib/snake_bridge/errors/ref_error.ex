defmodule SnakeBridge.RefError do
  @moduledoc """
  A ref that cannot be used. It never resolves to some other object.

  ## Fields

    * `:reason` — one of:
      * `:released` — the ref or its whole session was released;
      * `:unknown` — the worker never issued it (forged or corrupted);
      * `:worker_lost` — the worker that held it died and was replaced;
      * `:node_down` — the worker that held it was on another node, which went down
        or became unreachable (its objects are gone, even once the node is back);
      * `:cross_worker` — one call mixed refs held by different workers;
      * `:limit` — the session reached its cap on live refs (`:max_refs`);
    * `:message` — a sentence that says more.
  """

  defexception reason: nil, message: nil

  @typedoc "A ref that cannot be used."
  @type reason :: :released | :unknown | :worker_lost | :node_down | :cross_worker | :limit
  @type t :: %__MODULE__{reason: reason, message: String.t()}

  @impl true
  def message(%__MODULE__{reason: reason, message: message}), do: "#{reason}: #{message}"
end
