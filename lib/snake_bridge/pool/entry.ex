defmodule SnakeBridge.Pool.Entry do
  @moduledoc false
  # A worker's slot in its pool's routing table: what a caller reads to reach it.
  #
  # Words used across the pool, each for one thing only:
  #
  #   * index — a worker's position in its pool (0..size-1); a session is bound to one;
  #   * server — the SnakeBridge.Pool.WorkerServer process that owns the worker;
  #   * transport — how frames reach the Python process (SnakeBridge.Pool.Transport);
  #   * incarnation — one life of the Python process behind an index; a replacement
  #     gets a new one, so refs of the old one are never served by it;
  #   * worker id — {pool, index, incarnation}, what a ref records (Ref `:worker`).
  #
  # A record, not a map: the call path reads an entry on every call, and a tuple match
  # is the cheapest read there is.

  require Record

  Record.defrecord(:ready, [:server, :transport, :incarnation, :load])

  @typedoc "A worker ready for calls."
  @type ready ::
          record(:ready,
            server: pid,
            transport: SnakeBridge.Pool.Transport.t(),
            incarnation: pos_integer,
            load: :atomics.atomics_ref()
          )

  @typedoc "Every state a slot can be in."
  @type t ::
          ready
          | {:starting, server :: pid}
          | {:failed, server :: pid, SnakeBridge.WorkerCrashError.t()}
          | :absent

  @doc "Is `entry` a ready worker's?"
  @spec ready?(t) :: boolean
  def ready?(entry), do: Record.is_record(entry, :ready)

  @typedoc "Where a ref's object lives: {pool, index, incarnation}."
  @type worker_id :: {atom, non_neg_integer, pos_integer}
end
