defmodule SnakeBridge.Call.Context do
  @moduledoc false
  # `with_python/2`: Python's with-statement semantics around an Elixir function.
  # The open context is registered in its session on the Python side, so if the owning
  # process dies inside the block, session cleanup still calls __exit__.

  alias SnakeBridge.{Call, Ref}
  alias SnakeBridge.Call.{Callback, RefOps}

  @doc false
  def with_python(%Ref{} = ref, fun) do
    {context_id, entered} = unwrap!(RefOps.request(:ctx_enter, ref, [], []))

    try do
      fun.(entered)
    catch
      kind, reason ->
        stacktrace = __STACKTRACE__
        error = Callback.describe(kind, reason, stacktrace)

        if unwrap!(exit_context(ref, context_id, error)) do
          nil
        else
          :erlang.raise(kind, reason, stacktrace)
        end
    else
      value ->
        unwrap!(exit_context(ref, context_id, nil))
        value
    end
  end

  # The context lives in the caller's session on the ref's worker, where ctx_enter ran.
  defp exit_context(ref, context_id, error),
    do: Call.request(:ctx_exit, {context_id, error}, ref.worker, [])

  defp unwrap!({:ok, value}), do: value
  defp unwrap!({:error, error}), do: raise(error)
end
