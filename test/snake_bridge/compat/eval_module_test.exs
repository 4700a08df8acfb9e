defmodule SnakeBridge.CompatEvalTest do
  # eval compiles user code as a plain module would, in a module of its own.
  use ExUnit.Case, async: true

  test "annotations are objects: no __future__ leaks in from the engine" do
    assert SnakeBridge.eval!("class A:\n    x: int\nA.__annotations__['x'] is int") == true
    assert SnakeBridge.eval!("def f(a: list) -> int: pass\nf.__annotations__['a'] is list")
  end

  test "user code may still ask for string annotations itself" do
    code = "from __future__ import annotations\nclass A:\n    x: int\nA.__annotations__['x']"
    assert SnakeBridge.eval!(code) == "int"
  end

  test "classes get a real module, which pickle finds, in this call and later" do
    code = """
    import pickle
    class Point:
        def __init__(self, x):
            self.x = x
    p = Point(3)
    Point.__module__, pickle.loads(pickle.dumps(p)).x, p
    """

    {module, 3, point} = SnakeBridge.eval!(code)
    assert module =~ ~r/^snakebridge_eval_\d+$/
    assert point.type == module <> ".Point"
    copy = SnakeBridge.call!("pickle", "loads", [SnakeBridge.call!("pickle", "dumps", [point])])
    assert SnakeBridge.attr!(copy, "x") == 3
  end

  test "dataclasses resolve string annotations in the eval's module" do
    code = """
    from __future__ import annotations
    import dataclasses, typing
    @dataclasses.dataclass
    class Leaf:
        v: int
    @dataclasses.dataclass
    class Tree:
        left: Leaf
        right: typing.Optional[Tree] = None
    hints = typing.get_type_hints(Tree)
    hints['left'] is Leaf, Tree(Leaf(1)).left.v
    """

    assert SnakeBridge.eval!(code) == {true, 1}
  end

  test "each eval is a fresh namespace, and one that defines nothing is not kept" do
    assert SnakeBridge.eval!("x = 1\nx") == 1
    assert {:error, %SnakeBridge.PythonError{type: "NameError"}} = SnakeBridge.eval("x")

    kept? = fn name -> SnakeBridge.eval!("import sys\nn in sys.modules", %{n: name}) end

    refute kept?.(SnakeBridge.eval!("x = 1\n__name__"))

    assert kept?.(SnakeBridge.eval!("def f(): pass\n__name__"))
    assert kept?.(SnakeBridge.eval!("class C: pass\nC.__module__"))
  end
end
