defmodule SnakeBridge.Pool.Sessions do
  @moduledoc false
  # Watches every process that has called Python, and cleans up after it.
  #
  # A process registers itself on its first call (a cast plus a public ETS insert, so
  # the call path never waits on this server). When a watched process exits, normally
  # or killed, this server (1) cancels its in-flight calls on every worker it used, over
  # the control sockets, so Python stops working for a dead caller, and (2) releases the
  # sessions it owned: their open `with` blocks are exited first, then their refs are
  # dropped. Both are single frames per worker and take well under a second.
  #
  # Every process that calls Python passes through here, so each message costs O(1):
  # a session's owner is kept with it, and a process's first call sends one cast.

  use GenServer

  alias SnakeBridge.Session
  alias SnakeBridge.Pool.Housekeeping

  @callers __MODULE__.Callers
  # Shared-memory files written by live processes for requests in progress, so that a
  # process killed before its request ends leaves none (SnakeBridge.Shm).
  @segments __MODULE__.Segments
  # Ids of the sessions not yet released, written by the processes that open and
  # release them, so that a released session is refused at once (Session.resolve/2).
  @live __MODULE__.Live

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @doc false
  # Registers the calling process's caller id; `own/2` or `uses/2` then watches it.
  def register(caller_id), do: :ets.insert(@callers, {caller_id, self()})

  @doc false
  def watch(caller_id) do
    register(caller_id)
    GenServer.cast(__MODULE__, {:watch, self(), caller_id})
  end

  @doc false
  def own(caller_id, %Session{} = session) do
    :ets.insert(@live, {session.id})
    GenServer.cast(__MODULE__, {:own, self(), caller_id, session})
  end

  @doc false
  # Marks `session` released (before its refs are dropped, so no call can recreate it).
  def disown(%Session{} = session) do
    :ets.delete(@live, session.id)
    GenServer.cast(__MODULE__, {:disown, session})
  end

  @doc false
  def live?(session_id), do: :ets.member(@live, session_id)

  @doc false
  # The calling process uses `pool` through a session it does not own.
  def uses(caller_id, pool), do: GenServer.cast(__MODULE__, {:uses, self(), caller_id, pool})

  @doc false
  def alive?(caller_id), do: :ets.member(@callers, caller_id)

  @doc false
  def count, do: GenServer.call(__MODULE__, :count)

  @doc false
  # The calling process wrote the segment file `file` (a path, or one relayed to
  # another host, see SnakeBridge.Shm.Files.delete/1): deleted if the process dies
  # before it forgets it.
  def own_segment(file) do
    :ets.insert(@segments, {self(), file})

    unless Process.get({__MODULE__, :segments_watched}) do
      Process.put({__MODULE__, :segments_watched}, true)
      GenServer.cast(__MODULE__, {:watch_segments, self()})
    end
  end

  @doc false
  # The calling process deleted the segment file `file` itself.
  def disown_segment(file), do: :ets.delete_object(@segments, {self(), file})

  @doc false
  # The calling process's segment files are dealt with (read, or deleted by it).
  def forget_segments, do: :ets.delete(@segments, self())

  @impl true
  def init(nil) do
    :ets.new(@callers, [:named_table, :public, :set, read_concurrency: true])
    :ets.new(@live, [:named_table, :public, :set, read_concurrency: true])
    :ets.new(@segments, [:named_table, :public, :bag])
    {:ok, %{watched: %{}, sessions: %{}}}
  end

  @impl true
  def handle_cast({:watch, pid, caller_id}, state) do
    {:noreply, ensure_watched(state, pid, caller_id)}
  end

  def handle_cast({:own, pid, caller_id, session}, state) do
    state = ensure_watched(state, pid, caller_id)
    state = update_in(state.watched[pid], &use_pool(&1, session.pool, session.id))
    {:noreply, put_in(state.sessions[session.id], {session, pid})}
  end

  def handle_cast({:uses, pid, caller_id, pool}, state) do
    state = ensure_watched(state, pid, caller_id)
    {:noreply, update_in(state.watched[pid], &use_pool(&1, pool, nil))}
  end

  def handle_cast({:watch_segments, pid}, state) do
    Process.monitor(pid)
    {:noreply, state}
  end

  def handle_cast({:disown, session}, state) do
    case Map.pop(state.sessions, session.id) do
      {{_session, owner}, sessions} ->
        forget = fn watched ->
          %{watched | sessions: MapSet.delete(watched.sessions, session.id)}
        end

        watched = Map.replace_lazy(state.watched, owner, forget)
        {:noreply, %{state | watched: watched, sessions: sessions}}

      {nil, _} ->
        {:noreply, state}
    end
  end

  defp ensure_watched(state, pid, caller_id) do
    if Map.has_key?(state.watched, pid) do
      state
    else
      Process.monitor(pid)
      watched = %{caller: caller_id, sessions: MapSet.new(), pools: MapSet.new()}
      put_in(state.watched[pid], watched)
    end
  end

  defp use_pool(watched, pool, nil), do: %{watched | pools: MapSet.put(watched.pools, pool)}

  defp use_pool(watched, pool, session_id) do
    %{use_pool(watched, pool, nil) | sessions: MapSet.put(watched.sessions, session_id)}
  end

  @impl true
  def handle_call(:count, _from, state) do
    {:reply, %{processes: map_size(state.watched), sessions: map_size(state.sessions)}, state}
  end

  @impl true
  def handle_info({:DOWN, _ref, :process, pid, _reason}, state) do
    SnakeBridge.Shm.Files.delete(for {_pid, file} <- :ets.take(@segments, pid), do: file)

    case Map.pop(state.watched, pid) do
      {nil, _} ->
        {:noreply, state}

      {watched, rest} ->
        :ets.delete(@callers, watched.caller)
        owned = for id <- watched.sessions, {session, _owner} <- [state.sessions[id]], do: session

        Enum.each(owned, &:ets.delete(@live, &1.id))

        for pool <- watched.pools do
          Housekeeping.caller_gone(pool, watched.caller, Enum.filter(owned, &(&1.pool == pool)))
        end

        sessions = Map.drop(state.sessions, Enum.to_list(watched.sessions))
        {:noreply, %{state | watched: rest, sessions: sessions}}
    end
  end
end
