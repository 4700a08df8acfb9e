defmodule SnakeBridge.Call.Iteration do
  @moduledoc false
  # Python iteration as a lazy Elixir stream. One round trip pulls up to a batch of
  # items; the next batch is asked for only when the consumer has taken the previous
  # one, so a side-effecting generator never runs more than one batch ahead.

  alias SnakeBridge.{Options, Ref}
  alias SnakeBridge.Call.RefOps
  alias SnakeBridge.Pool.Housekeeping

  @first_batch 32
  @max_batch 8192

  @doc false
  def stream(%Ref{} = ref, opts) do
    Options.validate!(opts, [:batch], "SnakeBridge.stream/2")
    batch = Keyword.get(opts, :batch, :auto)

    unless batch == :auto or (is_integer(batch) and batch > 0) do
      raise ArgumentError,
            "expected :batch to be :auto or a positive integer, got: #{inspect(batch)}"
    end

    Stream.resource(fn -> open(ref, batch) end, &next/1, &close(&1, ref))
  end

  defp open(ref, batch) do
    case RefOps.request(:iter_open, ref, [], return: :ref) do
      {:ok, iterator} ->
        {iterator, batch, if(batch == :auto, do: @first_batch, else: batch), :cont}

      {:error, error} ->
        raise error
    end
  end

  defp next({_iterator, _batch, _size, :done} = state), do: {:halt, state}
  defp next({_iterator, _batch, _size, {:raise, error}}), do: raise(error)

  defp next({iterator, batch, size, :cont}) do
    case RefOps.request(:iter_next, iterator, [size], []) do
      {:ok, {items, :cont}} -> {items, {iterator, batch, grow(batch, size), :cont}}
      {:ok, {items, :done}} -> {items, {iterator, batch, size, :done}}
      {:ok, {items, {:error, error}}} -> {items, {iterator, batch, size, {:raise, error}}}
      {:error, error} -> raise error
    end
  end

  defp grow(:auto, size), do: min(size * 4, @max_batch)
  defp grow(_fixed, size), do: size

  # One object is one ref in a session, so an iterator that is its own iterable (a
  # generator, a file) comes back as the very ref being streamed: it is the caller's,
  # and stays.
  defp close({iterator, _batch, _size, _status}, ref) do
    _ = RefOps.request(:iter_close, iterator, [], [])
    if iterator != ref, do: Housekeeping.release_refs(iterator, [iterator.id])
  end
end
