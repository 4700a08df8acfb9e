defmodule SnakeBridge.Options do
  @moduledoc false
  # Checking the options users pass: a misspelt option fails loudly, naming itself and
  # the valid ones, and a value of the wrong type names the value.
  #
  # Empty options are the common case and cost one clause match. Options the runtime
  # uses internally (the channel a request goes on, what a timeout does, the grace
  # period) are not in any public list, so a user's keyword list cannot reach them.

  alias SnakeBridge.Session

  @call [:return, :timeout, :pool, :session, :output]

  @doc "The options of a call (`SnakeBridge.call/5` and the functions like it)."
  @spec call_options() :: [atom]
  def call_options, do: @call

  @doc """
  Checks a call's options, keys and values; returns them. `where` names the function
  for the message, e.g. `"SnakeBridge.call/5"`.
  """
  @spec call!(keyword, String.t()) :: keyword
  def call!([], _where), do: []

  def call!(opts, where) do
    validate!(opts, @call, where)
    Enum.each(opts, &check_call_value/1)
    opts
  end

  defp check_call_value({:return, mode}) when mode in [:auto, :value, :ref], do: :ok
  defp check_call_value({:timeout, :infinity}), do: :ok
  defp check_call_value({:timeout, ms}) when is_integer(ms) and ms >= 0, do: :ok
  defp check_call_value({:pool, pool}) when is_atom(pool), do: :ok
  defp check_call_value({:session, nil}), do: :ok
  defp check_call_value({:session, %Session{}}), do: :ok
  defp check_call_value({:output, output}) when output in [:logger, :caller], do: :ok

  defp check_call_value({key, value}) do
    expected =
      case key do
        :return -> ":auto, :value or :ref"
        :timeout -> "a non-negative integer (ms) or :infinity"
        :pool -> "a pool name (an atom)"
        :session -> "a SnakeBridge.Session or nil"
        :output -> ":logger or :caller"
      end

    raise ArgumentError, "expected #{inspect(key)} to be #{expected}, got: #{inspect(value)}"
  end

  @doc """
  Raises `ArgumentError` unless `opts` is a keyword list whose keys are all in
  `valid`; `where` names the function or module for the message.

      iex> SnakeBridge.Options.validate!([timout: 5], [:timeout], "f/1")
      ** (ArgumentError) unknown option :timout for f/1; valid: [:timeout]
  """
  @spec validate!(term, [atom], String.t()) :: :ok
  def validate!([], _valid, _where), do: :ok

  def validate!(opts, valid, where) when is_list(opts) do
    Enum.each(opts, fn
      {key, _value} when is_atom(key) ->
        unless key in valid do
          raise ArgumentError,
                "unknown option #{inspect(key)} for #{where}; valid: #{inspect(valid)}"
        end

      other ->
        raise ArgumentError,
              "expected the options of #{where} to be a keyword list, got the entry: " <>
                inspect(other)
    end)
  end

  def validate!(opts, _valid, where) do
    raise ArgumentError,
          "expected the options of #{where} to be a keyword list, got: #{inspect(opts)}"
  end
end
