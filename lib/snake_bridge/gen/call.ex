defmodule SnakeBridge.Gen.Call do
  @moduledoc false
  # What a generated wrapper does at run time before it calls the public API: split its
  # trailing keyword list into Python keyword arguments and bridge options.
  #
  # Bridge options travel under the single key `:bridge!`. A key ending in "!" can
  # never be a Python parameter name, so `timeout:` stays numpy's own `timeout`.
  # Only the keys the caller passed are sent, so Python sees its own defaults (numpy's
  # `_NoValue` sentinels never cross). The empty list is the hot path: one clause.

  @bridge_keys [:timeout, :return, :session, :pool, :output]

  @typedoc """
  What a wrapper knows of its Python parameters: the optional ones that must go by
  position, in order (positional-only ones, or any before a `*args`); the keyword
  names; whether it takes `**kwargs`; and the first optional positional parameter,
  which may be given as a bare value instead of the keyword list (`count(10)`).
  """
  @type spec :: {[atom], [atom], boolean, atom | nil}

  @doc false
  @spec split!(term, spec) :: {list, keyword, keyword}
  def split!([], _spec), do: {[], [], []}

  def split!(opts, {pulled, keys, any?, first} = spec) do
    cond do
      keyword?(opts) ->
        {kwargs, bridge} = take_bridge(opts)
        any? or check_keys!(kwargs, pulled ++ keys)
        {positional, kwargs} = take_positional(pulled, kwargs, [])
        {positional, kwargs, bridge}

      first != nil ->
        split!([{first, opts}], spec)

      true ->
        raise ArgumentError, "expected a keyword list of options, got: #{inspect(opts)}"
    end
  end

  @doc false
  # A generic `(*args, **kwargs)` wrapper given one keyword list: those are options;
  # given one value that is not a list: that is the only positional argument.
  @spec generic_args(term, keyword) :: {list, keyword}
  def generic_args([_ | _] = args, []) do
    if keyword?(args), do: {[], args}, else: {args, []}
  end

  def generic_args(args, opts) when is_list(args), do: {args, opts}
  def generic_args(arg, opts), do: {[arg], opts}

  defp keyword?([{key, _} | rest]) when is_atom(key), do: keyword?(rest)
  defp keyword?(rest), do: rest == []

  defp take_positional([], kwargs, acc), do: {Enum.reverse(acc), kwargs}

  defp take_positional([key | rest], kwargs, acc) do
    case :lists.keytake(key, 1, kwargs) do
      {:value, {^key, value}, kwargs} ->
        take_positional(rest, kwargs, [value | acc])

      false ->
        case Enum.find(rest, &:lists.keymember(&1, 1, kwargs)) do
          nil ->
            {Enum.reverse(acc), kwargs}

          later ->
            raise ArgumentError,
                  "option #{inspect(later)} is positional in Python, so #{inspect(key)} " <>
                    "must be given too"
        end
    end
  end

  defp take_bridge(opts) do
    case :lists.keytake(:bridge!, 1, opts) do
      {:value, {:bridge!, bridge}, kwargs} when is_list(bridge) ->
        {kwargs, Keyword.validate!(bridge, @bridge_keys)}

      {:value, {:bridge!, other}, _} ->
        raise ArgumentError,
              "expected bridge!: to be a keyword list of #{inspect(@bridge_keys)}, got: " <>
                inspect(other)

      false ->
        {opts, []}
    end
  end

  defp check_keys!(kwargs, keys) do
    Enum.each(kwargs, fn
      {key, _} ->
        :lists.member(key, keys) or
          raise ArgumentError,
                "unknown option #{inspect(key)}; valid options are #{inspect(keys)} and bridge!:"
    end)
  end

  @doc false
  @spec unwrap!({:ok, value} | {:error, Exception.t()}) :: value when value: term
  def unwrap!({:ok, value}), do: value
  def unwrap!({:error, error}), do: raise(error)

  @doc false
  # `new/…` returns a ref unless the caller asked otherwise.
  @spec ref_by_default(keyword) :: keyword
  def ref_by_default(bridge), do: Keyword.put_new(bridge, :return, :ref)
end
