defmodule SnakeBridge.CompatExceptionTest do
  # PythonError.ref, and with_python handing __exit__ the original exception.
  use ExUnit.Case, async: true

  alias SnakeBridge.{PythonError, Ref, RefError}

  test "a PythonError carries a ref to the exception object, traceback cleared" do
    code = """
    class ValidationError(ValueError):
        def __init__(self, errors):
            super().__init__("invalid")
            self._errors = errors
        def errors(self):
            return self._errors
    def check():
        raise ValidationError([{"loc": ["x"], "msg": "field required"}])
    """

    check = SnakeBridge.eval!(code <> "check")
    assert {:error, %PythonError{ref: %Ref{} = exception} = error} = SnakeBridge.apply(check)
    assert error.traceback =~ "in check"

    assert SnakeBridge.method!(exception, "errors") == [
             %{"loc" => ["x"], "msg" => "field required"}
           ]

    assert SnakeBridge.attr!(exception, "__traceback__") == nil
    assert SnakeBridge.eval!("e.__class__.__name__", %{e: exception}) == "ValidationError"
  end

  test "chained exceptions are kept without their tracebacks" do
    code = """
    def convert():
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
    convert()
    """

    {:error, %PythonError{ref: exception}} = SnakeBridge.eval(code)

    assert SnakeBridge.eval!("repr(e.__cause__), e.__cause__.__traceback__", %{e: exception}) ==
             {"KeyError('missing')", nil}
  end

  test "the session keeps its last error only" do
    {:error, %PythonError{ref: first}} = SnakeBridge.call("math", "sqrt", [-1])
    assert SnakeBridge.method!(first, "__str__") == "math domain error"
    {:error, %PythonError{ref: second}} = SnakeBridge.call("math", "log", [0])
    assert {:error, %RefError{reason: :released}} = SnakeBridge.method(first, "__str__")
    assert SnakeBridge.method!(second, "__str__") == "math domain error"
  end

  test "with_python hands __exit__ the original exception: suppress(KeyError) works" do
    suppress =
      SnakeBridge.call!("contextlib", "suppress", [SnakeBridge.attr!("builtins", "KeyError")])

    dict = SnakeBridge.eval!("{}", %{}, return: :ref)

    assert SnakeBridge.with_python(suppress, fn _ -> SnakeBridge.get_item!(dict, "nope") end) ==
             nil

    other =
      SnakeBridge.call!("contextlib", "suppress", [SnakeBridge.attr!("builtins", "KeyError")])

    assert_raise PythonError, ~r/ZeroDivisionError/, fn ->
      SnakeBridge.with_python(other, fn _ -> SnakeBridge.eval!("1 / 0") end)
    end
  end

  test "a transaction manager sees the real error; Elixir failures stay ElixirError" do
    code = """
    class Tx:
        seen = []
        def __enter__(self):
            return self
        def __exit__(self, kind, value, tb):
            Tx.seen.append(None if kind is None else kind.__name__)
            return False
    Tx
    """

    tx_class = SnakeBridge.eval!(code)
    tx = SnakeBridge.apply!(tx_class)

    assert_raise PythonError, fn ->
      SnakeBridge.with_python(tx, fn _ -> SnakeBridge.call!("builtins", "int", ["x"]) end)
    end

    assert_raise RuntimeError, fn -> SnakeBridge.with_python(tx, fn _ -> raise "elixir" end) end
    assert SnakeBridge.with_python(tx, fn _ -> :ok end) == :ok
    assert SnakeBridge.attr!(tx_class, "seen") == ["ValueError", "ElixirError", nil]
  end
end
