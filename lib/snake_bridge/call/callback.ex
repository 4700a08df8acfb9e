defmodule SnakeBridge.Call.Callback do
  @moduledoc false
  # Runs the Elixir functions that Python calls.
  #
  # A callback runs in the process that is waiting on the call during which Python
  # invoked it, so it sees that process's dictionary and session. While it runs, the
  # process dictionary marks the callback as the parent of any call the function makes
  # to the same worker: the worker serves those nested calls right away instead of
  # queueing them behind the call that is waiting for this callback (re-entrancy).
  #
  # Python receives either {:ok, value} or {kind, message, error_kind, stacktrace}
  # with kind :error or :owner_gone, and raises snakebridge.ElixirError for the latter.

  require SnakeBridge.Call.Args

  alias SnakeBridge.Shm
  alias SnakeBridge.Call.{Args, Header}
  alias SnakeBridge.Pool.{Sessions, Transport}

  # On every callback's path, where each call is cold (bench/README.md, "session 7").
  @compile {:inline, restore: 2}

  @doc false
  def run(call, {callback_id, fun, args, channel, owner}) do
    outcome =
      if owner == call.caller or Sessions.alive?(owner) do
        invoke(fun, args, {:snakebridge_parent, call.pool, call.index}, {callback_id, channel})
      else
        owner_gone(owner)
      end

    respond(call.transport, channel, call.session.id, call.caller, callback_id, outcome)
  end

  @doc false
  # Answers a callback with an error without running it (its call was abandoned).
  def refuse(call, {callback_id, _fun, _args, channel, _owner}, why) do
    outcome = {:error, why, "exit", ""}
    respond(call.transport, channel, call.session.id, call.caller, callback_id, outcome)
  end

  @doc false
  # A callback Python invoked outside any call (e.g. from a thread it started): run it
  # in a fresh task, answered over the control channel of `transport`.
  def run_orphan(transport, callback_id, fun, args, owner) do
    Task.Supervisor.start_child(SnakeBridge.TaskSupervisor, fn ->
      outcome =
        if Sessions.alive?(owner), do: invoke(fun, args, nil, nil), else: owner_gone(owner)

      respond(transport, :control, 0, 0, callback_id, outcome)
    end)
  end

  defp owner_gone(owner) do
    message =
      "the Elixir process that passed this function to Python has exited (caller #{owner})"

    {:owner_gone, message, "exit", ""}
  end

  # The process dictionary through its BIFs, not Process's wrappers: one call less
  # each, on every callback's path.
  defp invoke(fun, args, key, marker) do
    previous = key && :erlang.put(key, marker)

    try do
      {:ok, apply(fun, args)}
    catch
      kind, reason ->
        {message, error_kind, stacktrace} = describe(kind, reason, __STACKTRACE__)
        {:error, message, error_kind, stacktrace}
    after
      if key, do: restore(key, previous)
    end
  end

  @doc false
  # How an Elixir raise, throw or exit crosses to Python, as the arguments of
  # snakebridge.ElixirError: the banner Elixir itself prints ("** (RuntimeError) boom"),
  # the exception module or "throw"/"exit", and the formatted stacktrace.
  def describe(kind, reason, stacktrace) do
    error_kind =
      case kind do
        :error -> inspect(Exception.normalize(:error, reason, stacktrace).__struct__)
        other -> Atom.to_string(other)
      end

    {Exception.format_banner(kind, reason, stacktrace), error_kind,
     Exception.format_stacktrace(stacktrace)}
  end

  defp restore(key, :undefined), do: :erlang.erase(key)
  defp restore(key, previous), do: :erlang.put(key, previous)

  defp respond(transport, channel, session_id, caller, callback_id, outcome) do
    body =
      case outcome do
        # The commonest result, `fn x -> x * 2 end`, with nothing to prepare.
        {:ok, value} when Args.is_ready_scalar(value) ->
          {callback_id, outcome}

        {:ok, value} ->
          case Args.prepare(value, "callback result") do
            {:ok, value, _worker} -> {callback_id, {:ok, value}}
            {:error, error} -> {callback_id, error_outcome(error)}
          end

        error ->
          {callback_id, error}
      end

    {blob_flag, body, _file_bytes} = Shm.frame_body(:erlang.term_to_binary(body))

    header = Header.build(:callback_result, blob_flag, <<>>, session_id, caller, <<>>)

    case channel do
      :main -> Transport.send_frame_async(transport, [header | body])
      :control -> Transport.send_control(transport, [header | body])
    end
  end

  defp error_outcome(error) do
    {:error, Exception.message(error), inspect(error.__struct__), ""}
  end
end
