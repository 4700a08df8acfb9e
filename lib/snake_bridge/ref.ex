defmodule SnakeBridge.Ref do
  @moduledoc """
  A handle to a Python object that lives in a worker.

  Results that have no exact Elixir form (instances, modules, functions, ndarrays,
  generators, Counters, …) come back as refs. A ref can be passed back as an argument,
  chained with `SnakeBridge.method/5`, `SnakeBridge.attr/2` and
  `SnakeBridge.get_item/2`, enumerated lazily (`Enumerable`), indexed with
  `ref[key]` (`Access`), printed with `inspect/1` (type and a short repr) and
  converted with `to_string/1` (Python's `str()`).

  ## Fields

    * `:id` — an unguessable binary: a 64-bit counter and a 128-bit MAC of it and the
      session under a per-worker secret;
    * `:type` — the qualified Python type name, e.g. `"collections.Counter"`;
    * `:session` — the session whose table holds the object;
    * `:worker` — `{pool, index, incarnation}` of the worker process that holds it.

  Refs are capabilities: any process holding the struct may use it while its session
  lives. See "Sessions and ref lifetime" in `SnakeBridge`.
  """

  @enforce_keys [:id, :type, :session, :worker]
  defstruct [:id, :type, :session, :worker]

  @typedoc "A handle to a Python object."
  @type t :: %__MODULE__{
          id: binary,
          type: String.t(),
          session: pos_integer,
          worker: {atom, non_neg_integer, pos_integer}
        }

  @doc false
  # A ref of the shape this VM issues: anything else (forged or corrupted) is refused
  # before it is sent (SnakeBridge.Call.Args).
  defguard is_well_formed(ref)
           when is_struct(ref, __MODULE__) and is_binary(:erlang.map_get(:id, ref)) and
                  is_integer(:erlang.map_get(:session, ref)) and
                  :erlang.map_get(:session, ref) > 0 and
                  :erlang.map_get(:session, ref) <= 0xFFFFFFFFFFFFFFFF and
                  is_tuple(:erlang.map_get(:worker, ref)) and
                  tuple_size(:erlang.map_get(:worker, ref)) == 3 and
                  is_atom(elem(:erlang.map_get(:worker, ref), 0)) and
                  is_integer(elem(:erlang.map_get(:worker, ref), 1)) and
                  elem(:erlang.map_get(:worker, ref), 1) >= 0 and
                  is_integer(elem(:erlang.map_get(:worker, ref), 2)) and
                  elem(:erlang.map_get(:worker, ref), 2) > 0

  @behaviour Access

  @impl Access
  def fetch(%__MODULE__{} = ref, key) do
    case SnakeBridge.get_item(ref, key) do
      {:ok, value} ->
        {:ok, value}

      {:error, %SnakeBridge.PythonError{} = error} ->
        if "LookupError" in error.bases, do: :error, else: raise(error)

      {:error, error} ->
        raise error
    end
  end

  @impl Access
  def get_and_update(%__MODULE__{} = ref, key, fun) do
    current =
      case fetch(ref, key) do
        {:ok, value} -> value
        :error -> nil
      end

    case fun.(current) do
      {get, update} ->
        :ok = SnakeBridge.set_item(ref, key, update) |> ok!()
        {get, ref}

      :pop ->
        {_, ref} = pop(ref, key)
        {current, ref}
    end
  end

  @impl Access
  def pop(%__MODULE__{} = ref, key) do
    case fetch(ref, key) do
      {:ok, value} ->
        SnakeBridge.call!("operator", "delitem", [ref, key])
        {value, ref}

      :error ->
        {nil, ref}
    end
  end

  defp ok!(:ok), do: :ok
  defp ok!({:error, error}), do: raise(error)
end

defimpl Inspect, for: SnakeBridge.Ref do
  import Inspect.Algebra

  # inspect/1 must never hang or crash: the repr is asked for with a short timeout and
  # any failure (slow or raising __repr__, dead worker, released ref) just leaves it out.
  def inspect(ref, _opts) do
    case SnakeBridge.Call.RefOps.short_repr(ref) do
      {:ok, repr} -> concat(["#SnakeBridge.Ref<", ref.type, " ", repr, ">"])
      {:error, note} -> concat(["#SnakeBridge.Ref<", ref.type, " (", note, ")>"])
    end
  end
end

defimpl String.Chars, for: SnakeBridge.Ref do
  def to_string(ref), do: SnakeBridge.Call.RefOps.str!(ref)
end

defimpl Enumerable, for: SnakeBridge.Ref do
  def reduce(ref, acc, fun), do: Enumerable.reduce(SnakeBridge.stream(ref), acc, fun)

  def count(ref) do
    case SnakeBridge.Call.RefOps.len(ref) do
      {:ok, count} -> {:ok, count}
      :error -> {:error, __MODULE__}
    end
  end

  def member?(ref, element) do
    case SnakeBridge.Call.RefOps.contains(ref, element) do
      {:ok, member?} -> {:ok, member?}
      :error -> {:error, __MODULE__}
    end
  end

  def slice(_ref), do: {:error, __MODULE__}
end
