defmodule SnakeBridge.Call.RefOps do
  @moduledoc false
  # Requests on one ref that the protocols and helpers of SnakeBridge.Ref make
  # (Inspect, String.Chars, Enumerable, Array export).

  alias SnakeBridge.{Call, PythonError, Ref, RefError, TimeoutError}
  alias SnakeBridge.Call.Args

  @repr_limit 200
  @repr_timeout 500

  @doc "Sends `op` with the ref and `rest` (prepared here) as its body."
  @spec request(atom, Ref.t(), list, Call.opts()) :: {:ok, term} | {:error, Exception.t()}
  def request(op, %Ref{} = ref, rest, opts) do
    # The ref too: a malformed one is refused here, not deep in the call path.
    with {:ok, [ref | rest], worker_id} <- Args.prepare([ref | rest], "args") do
      Call.request(op, List.to_tuple([ref | rest]), worker_id, opts)
    end
  end

  @doc "A short repr for `inspect/2`, or why there is none; never raises."
  @spec short_repr(Ref.t()) :: {:ok, String.t()} | {:error, String.t()}
  def short_repr(%Ref{} = ref) do
    case request(:repr, ref, [@repr_limit], timeout: @repr_timeout, on_timeout: :abandon) do
      {:ok, repr} when is_binary(repr) -> {:ok, repr}
      {:error, %RefError{reason: reason}} -> {:error, Atom.to_string(reason)}
      {:error, %TimeoutError{}} -> {:error, "repr timed out"}
      {:error, _} -> {:error, "repr failed"}
    end
  rescue
    _ -> {:error, "repr unavailable"}
  catch
    :exit, _ -> {:error, "repr unavailable"}
  end

  @doc "Python's `str()` of the object."
  @spec str!(Ref.t()) :: String.t()
  def str!(%Ref{} = ref) do
    case request(:str, ref, [], []) do
      {:ok, text} -> text
      {:error, error} -> raise error
    end
  end

  @doc "`len()`, or `:error` where the object has none."
  @spec len(Ref.t()) :: {:ok, non_neg_integer} | :error
  def len(%Ref{} = ref), do: type_error_as_missing(request(:len, ref, [], []))

  @doc "`element in obj`, or `:error` where the object has no membership test."
  @spec contains(Ref.t(), term) :: {:ok, boolean} | :error
  def contains(%Ref{} = ref, element),
    do: type_error_as_missing(request(:contains, ref, [element], []))

  defp type_error_as_missing({:ok, value}), do: {:ok, value}
  defp type_error_as_missing({:error, %PythonError{type: "TypeError"}}), do: :error
  defp type_error_as_missing({:error, error}), do: raise(error)

  @doc "The object's buffer as a `SnakeBridge.Array`."
  @spec array_export(Ref.t()) :: {:ok, SnakeBridge.Array.t()} | {:error, Exception.t()}
  def array_export(%Ref{} = ref), do: request(:array_export, ref, [], [])
end
