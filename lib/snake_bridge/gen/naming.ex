defmodule SnakeBridge.Gen.Naming do
  @moduledoc false
  # Python names as Elixir names, by one rule (documented in docs/WRAPPERS.md):
  #
  #   1. functions, readers and variables are lowercased; every character outside
  #      [a-z0-9_] becomes "_"; a name that would start with "_" or a digit gets "py_"
  #      in front (a leading "_" marks an unused variable in Elixir);
  #   2. a name that is (or whose bang twin is: `var!`, `alias!`) an Elixir reserved
  #      word, a Kernel or Kernel.SpecialForms import, or taken by the module itself
  #      (module_info, __info__, and `new` in a class module) gets a trailing "_";
  #   3. names still equal after 1-2 are told apart by Python name order: the one whose
  #      Python name already is the result keeps it, the others take "_2", "_3", ...
  #
  # Module segments are the Python name with anything outside [A-Za-z0-9_] as "_",
  # camelized by Macro.camelize/1 (`zip_longest` → `ZipLongest`, `JSONDecoder` stays),
  # with "Py" in front if that does not start with a letter, deduplicated by rule 3.

  @reserved ~w(do end fn when in and or not true false nil catch rescue after else)

  @doc "Elixir names for `python_names` (same order), with `taken` reserved too."
  @spec functions([String.t()], [String.t()]) :: %{String.t() => String.t()}
  def functions(python_names, taken \\ []) do
    blocked = MapSet.new(taken ++ @reserved ++ kernel_names() ++ ~w(module_info __info__))

    python_names
    |> Enum.map(fn name -> {name, base(name, blocked)} end)
    |> dedupe()
  end

  @doc "Variable names for parameters, avoiding `taken` (e.g. the generated `opts`)."
  @spec variables([String.t()], [String.t()]) :: %{String.t() => String.t()}
  def variables(python_names, taken) do
    blocked = MapSet.new(taken ++ @reserved ++ kernel_names())
    python_names |> Enum.map(&{&1, base(&1, blocked)}) |> dedupe(taken)
  end

  @doc "Module segments for Python classes or modules."
  @spec segments([String.t()]) :: %{String.t() => String.t()}
  def segments(python_names) do
    python_names |> Enum.map(&{&1, segment(&1)}) |> dedupe()
  end

  @doc "The alias of a Python module under the prefix: `numpy.linalg` → `Py.Numpy.Linalg`."
  @spec module_alias(String.t(), String.t()) :: String.t()
  def module_alias(prefix, python_module) do
    Enum.join([prefix | Enum.map(String.split(python_module, "."), &segment/1)], ".")
  end

  defp segment(name) do
    camel = name |> String.replace(~r/[^A-Za-z0-9_]/u, "_") |> Macro.camelize()
    if camel =~ ~r/^[A-Z]/, do: camel, else: "Py" <> camel
  end

  defp base(name, blocked) do
    plain = name |> String.downcase() |> String.replace(~r/[^a-z0-9_]/u, "_")
    plain = if plain =~ ~r/^[a-z]/, do: plain, else: "py_" <> plain
    # `var` too: its bang twin `var!` would be Kernel's macro.
    if MapSet.member?(blocked, plain) or MapSet.member?(blocked, plain <> "!"),
      do: plain <> "_",
      else: plain
  end

  defp dedupe(pairs, taken \\ []) do
    {winners, losers} =
      pairs
      |> Enum.sort()
      |> Enum.group_by(&elem(&1, 1))
      |> Enum.flat_map(fn {target, group} ->
        keep =
          case Enum.filter(group, fn {py, _} -> py == target end) do
            [] -> [hd(group)]
            exact -> exact
          end

        Enum.map(keep, &{:keep, &1}) ++ Enum.map(group -- keep, &{:rename, &1})
      end)
      |> Enum.split_with(&(elem(&1, 0) == :keep))

    used = MapSet.new(taken ++ Enum.map(winners, fn {:keep, {_, target}} -> target end))

    {renamed, _} =
      losers
      |> Enum.sort()
      |> Enum.map_reduce(used, fn {:rename, {py, target}}, used ->
        name =
          Enum.find(Stream.map(2..1_000_000, &"#{target}_#{&1}"), &(not MapSet.member?(used, &1)))

        {{py, name}, MapSet.put(used, name)}
      end)

    Map.new(Enum.map(winners, &elem(&1, 1)) ++ renamed)
  end

  defp kernel_names do
    for module <- [Kernel, Kernel.SpecialForms],
        kind <- [:functions, :macros],
        {name, _arity} <- module.__info__(kind),
        uniq: true,
        do: Atom.to_string(name)
  end
end
