defmodule SnakeBridge.Pool.Housekeeping do
  @moduledoc false
  # Frames that clean up and want no answer: releasing refs, and forgetting a caller
  # that has exited. They are sent without waiting, by whoever notices (release/1, the
  # Sessions server), so they never hold anybody up: a busy port gets them from a
  # process of their own (Transport.send_frame_async/2), and the Sessions server,
  # shared by every pool, is never suspended on a worker's port.

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Ref, Session}
  alias SnakeBridge.Call.Header
  alias SnakeBridge.Pool.{Entry, Table, Transport}

  @doc """
  After a caller's death: cancels its calls in flight on every worker of `pool` and
  releases the sessions it owned there, without waiting.

  A worker with nothing in flight has nothing of the caller's to cancel (a request is
  counted before it is sent), so it gets no cancellation. A busy one gets CANCEL_CALLER
  on the control channel to interrupt the calls at once, then CALLER_DONE on the main
  channel behind the caller's last frame, which lets the worker forget the caller
  (Cancellation.caller_done in the engine).
  """
  @spec caller_gone(atom, non_neg_integer, [Session.t()]) :: :ok
  def caller_gone(pool, caller, sessions) do
    cancel = Header.one_way(:cancel_caller, {caller})
    done = Header.one_way(:caller_done, {caller})
    releases = Enum.map(sessions, &Header.one_way(:release_session, {}, &1.id))

    for {_index, Entry.ready(transport: transport, load: load)} <- Table.ready_entries(pool) do
      if :atomics.get(load, 1) > 0 do
        Transport.send_control(transport, cancel)
        Transport.send_frame_async(transport, done)
      end

      Enum.each(releases, &Transport.send_frame_async(transport, &1))
    end

    :ok
  end

  @doc "Releases refs without waiting (release/1 is idempotent and never fails)."
  @spec release_refs(Ref.t(), [binary]) :: :ok
  def release_refs(ref, ids), do: send_release(:release, ref, ids)

  @doc """
  Releases, without waiting, those of the refs found in a reply that is not delivered
  that were made for it: not the refs its session already held (an object keeps its
  ref id in a session), nor those another reply has carried since.
  """
  @spec release_made(Ref.t(), [binary]) :: :ok
  def release_made(ref, ids), do: send_release(:release_made, ref, ids)

  defp send_release(op, %Ref{worker: {pool, index, incarnation}, session: session}, ids) do
    with meta when meta != nil <- Table.lookup(pool),
         Entry.ready(incarnation: ^incarnation, transport: transport) <- Table.entry(meta, index) do
      Transport.send_frame_async(transport, Header.one_way(op, {ids}, session))
    end

    :ok
  rescue
    # The pool stopped meanwhile, and its objects with it.
    ArgumentError -> :ok
  end
end
