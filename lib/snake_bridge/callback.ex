defmodule SnakeBridge.Callback do
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

  alias SnakeBridge.{Args, Runtime, Sessions, Wire}

  @doc false
  def run(call, {callback_id, fun, args, channel, owner}) do
    outcome =
      if owner == call.caller or Sessions.alive?(owner) do
        invoke(fun, args, {:snakebridge_parent, call.pool, call.index}, {callback_id, channel})
      else
        owner_gone(owner)
      end

    respond(call, channel, callback_id, outcome)
  end

  @doc false
  # Answers a callback with an error without running it (its call was abandoned).
  def refuse(call, {callback_id, _fun, _args, channel, _owner}, why) do
    respond(call, channel, callback_id, {:error, why, "exit", ""})
  end

  @doc false
  # A callback Python invoked outside any call (e.g. from a thread it started): run it
  # in a fresh task, answered over the control socket.
  def run_orphan(control, callback_id, fun, args, owner) do
    Task.Supervisor.start_child(SnakeBridge.TaskSupervisor, fn ->
      outcome =
        if Sessions.alive?(owner), do: invoke(fun, args, nil, nil), else: owner_gone(owner)

      call = %{control: control, session: %{id: 0}, caller: 0}
      respond(call, :control, callback_id, outcome)
    end)
  end

  defp owner_gone(owner) do
    message =
      "the Elixir process that passed this function to Python has exited (caller #{owner})"

    {:owner_gone, message, "exit", ""}
  end

  defp invoke(fun, args, key, marker) do
    previous = key && Process.put(key, marker)

    try do
      {:ok, apply(fun, args)}
    rescue
      error ->
        {:error, Exception.message(error), inspect(error.__struct__),
         Exception.format_stacktrace(__STACKTRACE__)}
    catch
      :throw, value ->
        {:error, "throw: " <> inspect(value), "throw",
         Exception.format_stacktrace(__STACKTRACE__)}

      :exit, reason ->
        {:error, "exit: " <> inspect(reason), "exit", Exception.format_stacktrace(__STACKTRACE__)}
    after
      if key, do: restore(key, previous)
    end
  end

  defp restore(key, nil), do: Process.delete(key)
  defp restore(key, previous), do: Process.put(key, previous)

  defp respond(call, channel, callback_id, outcome) do
    body =
      case outcome do
        {:ok, value} ->
          case Args.prepare(value, "callback result") do
            {:ok, value, _worker} -> {callback_id, {:ok, value}}
            {:error, error} -> {callback_id, error_outcome(error)}
          end

        error ->
          {callback_id, error}
      end

    frame = [
      <<Wire.op(:callback_result), 0, 0, call.session.id::64, call.caller::64, 0>>
      | :erlang.term_to_binary(body)
    ]

    Runtime.transmit(channel, call, frame)
  end

  defp error_outcome(error) do
    {:error, Exception.message(error), inspect(error.__struct__), ""}
  end
end
