defmodule SnakeBridge.Gen.EmitterTest do
  # The emitter on API data from the real introspector, compiled in memory and called
  # through the real pool.
  use ExUnit.Case, async: false

  alias SnakeBridge.Gen.{API, Emitter, Introspector}

  @moduletag :tmp_dir
  @tools Path.join(Path.dirname(Mix.Project.build_path()), "snakebridge_tools")

  @typed """
  from collections.abc import Iterator

  def scale(x: int, factor: float = 2.0, *, label: str | None = None) -> list[float]:
      '''Scale x.

      Args:
          x: The value.
          factor: The factor.

      Examples:
          >>> scale(2)
          [4.0]
      '''
      return [x * factor]

  def upto(n: int) -> Iterator[int]:
      yield from range(n)

  def join(sep, *parts, **extra):
      return sep.join(parts) + repr(sorted(extra))

  def render(template, args, kwargs, positional=None):
      return template.format(*args, **kwargs) + repr(positional)

  class Box:
      '''A box.'''
      size = 3

      def __init__(self, content):
          self.content = content

      def get(self, default=None):
          return self.content if self.content is not None else default

      @property
      def full(self) -> bool:
          return self.content is not None

      @staticmethod
      def empty():
          return Box(None)
  """

  setup_all do
    dir = Path.join(System.tmp_dir!(), "sb_emitter_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    File.write!(Path.join(dir, "sb_typed.py"), @typed)
    previous = System.get_env("PYTHONPATH")
    System.put_env("PYTHONPATH", dir)

    apis =
      for {module, only} <- [{"sb_typed", nil}, {"math", ~w(log sqrt pi)}], into: %{} do
        {:ok, text} = Introspector.introspect(module, only, @tools)
        {:ok, api} = API.parse(text, module)
        {module, api}
      end

    # Docs are read from .beam files, as `h` does.
    modules =
      for {module, api} <- apis,
          {_path, source} <- Emitter.files(api, "EmitTest", module <> ".terms"),
          {name, binary} <- Code.compile_string(source),
          into: %{} do
        beam = Path.join(dir, "#{name}.beam")
        File.write!(beam, binary)
        {name, beam}
      end

    on_exit(fn ->
      if previous,
        do: System.put_env("PYTHONPATH", previous),
        else: System.delete_env("PYTHONPATH")

      File.rm_rf!(dir)
    end)

    %{apis: apis, modules: modules, dir: dir}
  end

  # The pool's workers started before PYTHONPATH was set: a test's worker (its
  # session's) is told where sb_typed.py is.
  setup %{dir: dir} do
    SnakeBridge.eval!("import sys\nif d not in sys.path: sys.path.insert(0, d)", %{"d" => dir})
    :ok
  end

  test "the same data gives byte-identical files", %{apis: apis} do
    api = apis["sb_typed"]
    assert Emitter.files(api, "EmitTest", "x") == Emitter.files(api, "EmitTest", "x")

    assert Enum.map(Emitter.files(api, "EmitTest", "x"), &elem(&1, 0)) ==
             ["emit_test/sb_typed.ex", "emit_test/sb_typed/box.ex"]
  end

  test "functions: positional, options, first option by position, *args, **kwargs" do
    assert apply(EmitTest.SbTyped, :scale, [2]) == {:ok, [4.0]}
    assert apply(EmitTest.SbTyped, :scale, [2, [factor: 3]]) == {:ok, [6.0]}
    assert apply(EmitTest.SbTyped, :scale, [2, 3, [label: "x"]]) == {:ok, [6.0]}
    assert apply(EmitTest.SbTyped, :scale!, [2, 0.5]) == [1.0]
    assert apply(EmitTest.SbTyped, :join!, ["-", ["a", "b"], [z: 1]]) == "a-b['z']"
    assert apply(EmitTest.SbTyped, :scale!, [2, 3, [label: "x"]]) == [6.0]

    # Python parameters named like the wrapper's own variables keep their values.
    assert apply(EmitTest.SbTyped, :render!, ["{}{k}", [1], %{"k" => 2}, [positional: 3]]) ==
             "123"

    assert_raise ArgumentError,
                 ~r/unknown option :labels; valid options are \[:factor, :label\]/,
                 fn ->
                   apply(EmitTest.SbTyped, :scale, [2, [labels: "x"]])
                 end
  end

  test "errors and bridge options", _ do
    assert {:error, %SnakeBridge.PythonError{type: "ValueError"}} =
             apply(EmitTest.Math, :sqrt, [-1])

    {:ok, ref} = apply(EmitTest.Math, :sqrt, [16, [bridge!: [return: :ref]]])
    assert SnakeBridge.ref?(ref)
  end

  test "builtins: docstring signature, positional-only options sent by position" do
    assert apply(EmitTest.Math, :log!, [8, [base: 2]]) == 3.0
    assert apply(EmitTest.Math, :log!, [8, 2]) == 3.0
    assert apply(EmitTest.Math, :pi!, []) == :math.pi()
  end

  test "generators are streams" do
    assert apply(EmitTest.SbTyped, :upto!, [3]) |> Enum.to_list() == [0, 1, 2]
  end

  test "classes: new, methods, static methods, readers, constructor function" do
    box = apply(EmitTest.SbTyped.Box, :new!, [5])
    assert SnakeBridge.ref?(box)
    assert apply(EmitTest.SbTyped.Box, :get!, [box]) == 5
    assert apply(EmitTest.SbTyped.Box, :full!, [box]) == true
    assert apply(EmitTest.SbTyped.Box, :size!, [box]) == 3
    empty = apply(EmitTest.SbTyped.Box, :empty!, [])
    assert apply(EmitTest.SbTyped.Box, :get!, [empty, 7]) == 7
    assert SnakeBridge.ref?(apply(EmitTest.SbTyped, :box!, [1]))
  end

  test "specs come from annotations", %{modules: modules} do
    {:ok, specs} = Code.Typespec.fetch_specs(File.read!(modules[EmitTest.SbTyped]))

    spec = fn name, arity ->
      [spec] = for {{^name, ^arity}, [spec]} <- specs, do: spec
      text = spec |> then(&Code.Typespec.spec_to_quoted(name, &1)) |> Macro.to_string()

      text
      |> String.replace(~r/\(\s+/, "(")
      |> String.replace(~r/\s+/, " ")
      |> String.replace(" )", ")")
    end

    assert spec.(:scale, 2) ==
             "scale(integer() | SnakeBridge.Ref.t(), keyword()) :: " <>
               "{:ok, [float()] | SnakeBridge.Ref.t()} | {:error, SnakeBridge.error()}"

    assert spec.(:upto, 2) =~ ":: {:ok, Enumerable.t()} | {:error, SnakeBridge.error()}"
  end

  test "docs start with the Python signature and keep examples in python fences", %{
    modules: modules
  } do
    {:docs_v1, _, _, _, _, _, docs} = Code.fetch_docs(modules[EmitTest.SbTyped])

    {_, _, _, %{"en" => doc}, _} =
      Enum.find(docs, &match?({{:function, :scale, 2}, _, _, _, _}, &1))

    assert doc =~ ~r/\A```python\nsb_typed.scale\(x: int, factor: float = 2.0/
    assert doc =~ "## Parameters\n\n  * `x` - The value."
    assert doc =~ "```python\n>>> scale(2)\n[4.0]\n```"
    refute doc =~ "iex>"
  end
end
