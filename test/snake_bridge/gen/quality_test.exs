defmodule SnakeBridge.Gen.QualityTest do
  # The issue's quality bar, on the real libraries: generated code for numpy (top,
  # linalg, fft, random), pandas, sympy, scipy.optimize and six stdlib modules compiles
  # without warnings, is formatted, works, and carries Markdown docs.
  use ExUnit.Case, async: false

  alias SnakeBridge.Test.UserProject

  @moduletag :soak
  @moduletag timeout: 1_800_000

  @wrappers ~w(numpy numpy.linalg numpy.fft numpy.random pandas sympy scipy.optimize json
               pathlib collections re datetime itertools)

  setup_all do
    dir = UserProject.create("quality", @wrappers)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir, compile: UserProject.mix(dir, ["compile"])}
  end

  test "compiles with zero warnings, and a second compile is silent", %{
    dir: dir,
    compile: compile
  } do
    {output, status} = compile
    assert status == 0, output
    refute output =~ "warning", output
    assert {"", 0} = UserProject.mix(dir, ["compile"])
  end

  test "the generated code is formatted", %{dir: dir} do
    assert {output, 0} = UserProject.mix(dir, ["format", "--check-formatted", "lib/**/*.ex"])
    assert output == ""
  end

  test "nothing was skipped that is not a submodule", %{dir: dir} do
    for module <- @wrappers do
      {:ok, api} = SnakeBridge.Gen.API.read(Path.join(dir, "python_api/#{module}.terms"))
      assert api.functions != [] or api.classes != []
      assert Enum.reject(api.skipped, &(&1.reason =~ "submodule")) == [], module
    end
  end

  test "a sample from each library works", %{dir: dir} do
    script = ~S"""
    a = Py.Numpy.array!([[1, 2], [3, 4]])
    IO.inspect(Py.Numpy.mean!(a, axis: 0) |> SnakeBridge.to_elixir!(), label: "mean")
    IO.inspect(Py.Numpy.Linalg.det!([[2, 0], [0, 3]]) |> round(), label: "det")
    IO.inspect(Py.Numpy.Fft.rfft!([1, 1, 1, 1]) |> SnakeBridge.method!("tolist") |> length(), label: "rfft")
    rng = Py.Numpy.Random.default_rng!(42)
    IO.inspect(Py.Numpy.Random.Generator.integers!(rng, 10, size: 3) |> SnakeBridge.to_elixir!() |> length(), label: "rng")
    df = Py.Pandas.DataFrame.new!(%{"a" => [1, 2]})
    IO.inspect(Py.Pandas.DataFrame.head!(df, n: 1) |> Py.Pandas.DataFrame.shape!(), label: "head")
    x = Py.Sympy.symbols!("x")
    IO.puts("expand: #{Py.Sympy.expand!(SnakeBridge.eval!("(x + 1)**2", %{"x" => x}))}")
    IO.inspect(Py.Scipy.Optimize.minimize_scalar!(&(&1 * &1 - 2 * &1)) |> SnakeBridge.attr!("x") |> Float.round(3), label: "minimize")
    IO.inspect(Py.Json.loads!(~s([1, {"b": null}])), label: "json")
    IO.inspect(Py.Pathlib.PurePosixPath.new!(["/tmp/a.txt"]) |> Py.Pathlib.PurePath.with_suffix!(".csv") |> to_string(), label: "pathlib")
    IO.inspect(Py.Collections.Counter.new!(["a", "b", "a"]) |> Py.Collections.Counter.most_common!(1), label: "counter")
    IO.inspect(Py.Re.sub!("a+", "-", "caaat"), label: "re")
    IO.inspect(Py.Datetime.Date.new!(2024, 1, 2) |> Py.Datetime.Date.isoformat!(), label: "date")
    IO.inspect(Py.Itertools.count!(10) |> Enum.take(3), label: "count", charlists: :as_lists)
    """

    {output, status} = UserProject.mix(dir, ["run", "-e", script])
    assert status == 0, output

    for line <- [
          "mean: [2.0, 3.0]",
          "det: 6",
          "rfft: 3",
          "rng: 3",
          "head: {1, 1}",
          "expand: x**2 + 2*x + 1",
          "minimize: 1.0",
          ~s(json: [1, %{"b" => nil}]),
          ~s(pathlib: "/tmp/a.csv"),
          ~s(counter: [{"a", 2}]),
          ~s(re: "c-t"),
          ~s(date: "2024-01-02"),
          "count: [10, 11, 12]"
        ] do
      assert output =~ line
    end
  end

  test "docs are Markdown with the Python signature and sections", %{dir: dir} do
    script = ~S"""
    {:docs_v1, _, _, _, %{"en" => moduledoc}, _, docs} = Code.fetch_docs(Py.Numpy)
    IO.puts(moduledoc =~ "Wrappers for the Python module `numpy`")
    doc = fn module, name, arity ->
      {:docs_v1, _, _, _, _, _, docs} = Code.fetch_docs(module)
      {_, _, _, %{"en" => text}, _} = Enum.find(docs, &match?({{:function, ^name, ^arity}, _, _, _, _}, &1))
      text
    end
    IO.puts("---mean\n" <> doc.(Py.Numpy, :mean, 2))
    IO.puts("---loads\n" <> doc.(Py.Json, :loads, 2))
    IO.puts("---counter\n" <> doc.(Py.Collections.Counter, :most_common, 2))
    """

    {output, 0} = UserProject.mix(dir, ["run", "-e", script])
    [flags, mean, loads, counter] = String.split(output, ~r/---\w+\n/)
    assert flags =~ "true"
    assert mean =~ ~r/\A```python\nnumpy.mean\(a, axis=None/
    assert mean =~ "## Parameters\n\n  * `a` (`array_like`)"
    assert mean =~ "## Examples\n\n```python\n>>> import numpy as np"
    refute mean =~ "iex>"
    assert loads =~ "```python\njson.loads(s, *, cls=None"
    assert counter =~ "```python\nCounter.most_common(n=None)"
  end
end
