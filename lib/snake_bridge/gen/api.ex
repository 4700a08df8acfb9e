defmodule SnakeBridge.Gen.API do
  @moduledoc false
  # The committed API data of one Python module, as read back from its Erlang term text
  # (written by `python -m snakebridge._introspect`, format in docs/WRAPPERS.md).
  #
  # Reading needs nothing but `:file.consult/1`, so a clean clone compiles its wrappers
  # without Python. Records are kept as the maps Python wrote; this module only checks
  # the format and sorts them by kind.

  @format 1

  defstruct [
    :module,
    :version,
    :introspector,
    :only,
    :doc,
    functions: [],
    classes: [],
    constants: [],
    skipped: []
  ]

  @type t :: %__MODULE__{
          module: String.t(),
          version: String.t(),
          introspector: String.t(),
          only: [String.t()] | nil,
          doc: String.t(),
          functions: [map],
          classes: [map],
          constants: [map],
          skipped: [map]
        }

  @doc "Where the API data of `module` lives under `dir`."
  @spec path(Path.t(), String.t()) :: Path.t()
  def path(dir, module), do: Path.join(dir, module <> ".terms")

  @doc "Reads an API data file."
  @spec read(Path.t()) :: {:ok, t} | {:error, String.t()}
  def read(path) do
    case :file.consult(String.to_charlist(path)) do
      {:ok, terms} -> from_terms(terms, path)
      {:error, reason} -> {:error, "cannot read #{path}: #{format_error(reason)}"}
    end
  end

  @doc "The module record alone (version, `only`, introspector), read from the first lines."
  @spec head(Path.t()) :: {:ok, t} | {:error, String.t()}
  def head(path) do
    # The format term and the module record are the first lines after the comments, so
    # the up-to-date check never reads a large file whole.
    with {:ok, io} <- File.open(path, [:read, :utf8]) do
      try do
        lines = for _ <- 1..4, line = IO.read(io, :line), is_binary(line), do: line
        parse(Enum.join(lines), path)
      after
        File.close(io)
      end
    else
      {:error, reason} -> {:error, "cannot read #{path}: #{format_error(reason)}"}
    end
  end

  @doc "Parses API data from its text (as `read/1`, for data not yet on disk)."
  @spec parse(String.t(), String.t()) :: {:ok, t} | {:error, String.t()}
  def parse(text, origin) do
    # file:consult/1 reads files only; the same scan-and-parse, term by term.
    case scan_terms(String.to_charlist(text), []) do
      {:ok, terms} -> from_terms(terms, origin)
      {:error, reason} -> {:error, "cannot parse #{origin}: #{inspect(reason)}"}
    end
  end

  defp scan_terms(chars, acc) do
    case :erl_scan.tokens([], chars, 1) do
      {:done, {:ok, tokens, _}, rest} ->
        with {:ok, term} <- :erl_parse.parse_term(tokens), do: scan_terms(rest, [term | acc])

      {:done, {:eof, _}, _} ->
        {:ok, Enum.reverse(acc)}

      {:done, {:error, info, _}, _} ->
        {:error, info}

      {:more, _} ->
        if String.trim(to_string(chars)) == "", do: {:ok, Enum.reverse(acc)}, else: {:error, :eof}
    end
  end

  defp format_error(reason) when is_tuple(reason), do: to_string(:file.format_error(reason))
  defp format_error(reason), do: inspect(reason)

  defp from_terms([{:snakebridge_api, @format}, {:module, head} | records], _origin) do
    api = %__MODULE__{
      module: head.name,
      version: head.version,
      introspector: head.introspector,
      only: head.only,
      doc: head.doc
    }

    {:ok, Enum.reduce(Enum.reverse(records), api, &add/2)}
  end

  defp from_terms([{:snakebridge_api, other} | _], origin),
    do:
      {:error,
       "#{origin} has API data format #{inspect(other)}; this SnakeBridge reads #{@format}"}

  defp from_terms(_terms, origin), do: {:error, "#{origin} is not SnakeBridge API data"}

  defp add({:function, record}, api), do: %{api | functions: [record | api.functions]}
  defp add({:class, record}, api), do: %{api | classes: [record | api.classes]}
  defp add({:constant, record}, api), do: %{api | constants: [record | api.constants]}
  defp add({:skipped, record}, api), do: %{api | skipped: [record | api.skipped]}
end
