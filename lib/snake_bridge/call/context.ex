defmodule SnakeBridge.Call.Context do
  @moduledoc false
  # `with_python/2`: Python's with-statement semantics around an Elixir function.
  # The open context is registered in its session on the Python side, so if the owning
  # process dies inside the block, session cleanup still calls __exit__.

  alias SnakeBridge.{Call, PythonError, Ref, RefError}
  alias SnakeBridge.Call.{Callback, RefOps}
  alias SnakeBridge.Pool.Table

  @doc false
  def with_python(%Ref{} = ref, fun) do
    {context_id, entered} = unwrap!(RefOps.request(:ctx_enter, ref, [], []))

    try do
      fun.(entered)
    catch
      kind, reason ->
        stacktrace = __STACKTRACE__

        case exit_context(ref, context_id, exit_error(ref, kind, reason, stacktrace)) do
          {:ok, true} -> nil
          {:ok, false} -> :erlang.raise(kind, reason, stacktrace)
          # The worker died, and the block's own error most likely says how: it stands.
          {:error, %RefError{reason: :worker_lost}} -> :erlang.raise(kind, reason, stacktrace)
          {:error, exit_error} -> raise exit_error
        end
    else
      value ->
        case exit_context(ref, context_id, nil) do
          {:ok, _suppress} -> value
          # The block ended because the worker crashed: say how, not that the ref is lost.
          {:error, %RefError{reason: :worker_lost} = lost} -> raise crash(ref) || lost
          {:error, exit_error} -> raise exit_error
        end
    end
  end

  # What `__exit__` receives: the Python exception itself when the block failed with a
  # PythonError raised on the context's own worker (so `contextlib.suppress(KeyError)`
  # and transaction managers see the real error), else an ElixirError describing the
  # Elixir failure (Python builds it from this triple).
  defp exit_error(ref, :error, %PythonError{ref: %Ref{worker: worker} = exception}, _stacktrace)
       when worker == ref.worker,
       do: exception

  defp exit_error(_ref, kind, reason, stacktrace), do: Callback.describe(kind, reason, stacktrace)

  defp crash(%Ref{worker: {pool, index, _incarnation}}), do: Table.last_exit(pool, index)

  # The context lives in the caller's session on the ref's worker, where ctx_enter ran.
  defp exit_context(ref, context_id, error),
    do: Call.request(:ctx_exit, {context_id, error}, ref.worker, [])

  defp unwrap!({:ok, value}), do: value
  defp unwrap!({:error, error}), do: raise(error)
end
