defmodule SnakeBridge.ContextTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.PythonError

  @moduletag :tmp_dir

  # A context manager that records what its __exit__ saw in `log` (a list ref):
  # {name, exception type, first line of str(exception)}; it suppresses when told to.
  @recorder """
  class Recorder:
      def __init__(self, log, name, suppress=False):
          self.log, self.name, self.suppress = log, name, suppress
      def __enter__(self):
          self.log.append(("enter", self.name))
          return self.name
      def __exit__(self, kind, value, tb):
          if value is None:
              self.log.append(("exit", self.name, None, None))
          else:
              first = str(value).splitlines()[0]
              self.log.append(("exit", self.name, type(value).__module__ + "." + kind.__name__, first))
          return self.suppress
  Recorder(log, name, suppress)
  """

  defp recorder(log, name, suppress \\ false),
    do: SnakeBridge.eval!(@recorder, %{log: log, name: name, suppress: suppress})

  defp new_log, do: SnakeBridge.eval!("[]", %{}, return: :ref)
  defp read_log(log), do: SnakeBridge.to_elixir!(log)

  describe "with_python/2 with standard library context managers" do
    test "an open() file is written inside the block and closed after it", %{tmp_dir: dir} do
      path = Path.join(dir, "out.txt")
      file = SnakeBridge.call!("builtins", "open", [path, "w"])

      result =
        SnakeBridge.with_python(file, fn handle ->
          SnakeBridge.method!(handle, "write", ["hello\n"])
          assert SnakeBridge.attr!(handle, "closed") == false
          :written
        end)

      assert result == :written
      assert SnakeBridge.attr!(file, "closed") == true
      assert File.read!(path) == "hello\n"
    end

    test "a TemporaryDirectory is removed after the block" do
      tmp = SnakeBridge.call!("tempfile", "TemporaryDirectory", [])
      name = SnakeBridge.with_python(tmp, fn name -> assert File.dir?(name) && name end)
      refute File.exists?(name)
    end

    test "a TemporaryDirectory is removed even when the block raises" do
      tmp = SnakeBridge.call!("tempfile", "TemporaryDirectory", [])

      assert_raise RuntimeError, "inside", fn ->
        SnakeBridge.with_python(tmp, fn name ->
          File.write!(Path.join(name, "f"), "x")
          send(self(), {:dir, name})
          raise "inside"
        end)
      end

      assert_received {:dir, name}
      refute File.exists?(name)
    end

    test "a threading.Lock is held inside and released after, also after a raise" do
      lock = SnakeBridge.call!("threading", "Lock", [])

      SnakeBridge.with_python(lock, fn _ ->
        assert SnakeBridge.method!(lock, "locked") == true
      end)

      assert SnakeBridge.method!(lock, "locked") == false

      assert_raise RuntimeError, fn ->
        SnakeBridge.with_python(lock, fn _ -> raise "while locked" end)
      end

      assert SnakeBridge.method!(lock, "locked") == false
    end

    test "decimal.localcontext() is scoped to the block" do
      divide = "import decimal\nstr(decimal.Decimal(1) / decimal.Decimal(7))"
      outside = SnakeBridge.eval!(divide)
      context = SnakeBridge.call!("decimal", "localcontext", [], prec: 5)

      inside = SnakeBridge.with_python(context, fn _ -> SnakeBridge.eval!(divide) end)

      assert inside == "0.14286"
      assert outside == "0.1428571428571428571428571429"
      assert SnakeBridge.eval!(divide) == outside
    end
  end

  describe "with_python/2 semantics" do
    test "passes what __enter__ returned and returns the function's value" do
      log = new_log()

      assert SnakeBridge.with_python(recorder(log, "a"), fn entered -> {:got, entered} end) ==
               {:got, "a"}

      assert read_log(log) == [{"enter", "a"}, {"exit", "a", nil, nil}]
    end

    test "nested blocks exit in LIFO order" do
      log = new_log()

      SnakeBridge.with_python(recorder(log, "outer"), fn _ ->
        SnakeBridge.with_python(recorder(log, "inner"), fn _ -> :ok end)
      end)

      assert read_log(log) == [
               {"enter", "outer"},
               {"enter", "inner"},
               {"exit", "inner", nil, nil},
               {"exit", "outer", nil, nil}
             ]
    end

    test "a raise inside reaches __exit__ as snakebridge.ElixirError and continues unchanged" do
      log = new_log()

      error =
        assert_raise ArgumentError, "bad input", fn ->
          SnakeBridge.with_python(recorder(log, "r"), fn _ -> raise ArgumentError, "bad input" end)
        end

      assert %ArgumentError{message: "bad input"} = error

      assert [_, {"exit", "r", "snakebridge.ElixirError", "** (ArgumentError) bad input"}] =
               read_log(log)
    end

    test "a throw inside reaches __exit__ and continues as the same throw" do
      log = new_log()

      assert catch_throw(SnakeBridge.with_python(recorder(log, "t"), fn _ -> throw({:v, 1}) end)) ==
               {:v, 1}

      assert [_, {"exit", "t", "snakebridge.ElixirError", "** (throw) {:v, 1}"}] = read_log(log)
    end

    test "an exit inside reaches __exit__ and continues as the same exit" do
      log = new_log()

      assert catch_exit(SnakeBridge.with_python(recorder(log, "e"), fn _ -> exit(:shutdown) end)) ==
               :shutdown

      assert [_, {"exit", "e", "snakebridge.ElixirError", "** (exit) shutdown"}] = read_log(log)
    end

    test "an Erlang error inside reaches __exit__ as the Elixir exception it normalises to" do
      log = new_log()
      zero = Enum.random([0])

      assert_raise ArithmeticError, fn ->
        SnakeBridge.with_python(recorder(log, "z"), fn _ -> 1 / zero end)
      end

      ref = recorder(log, "k")

      assert catch_error(SnakeBridge.with_python(ref, fn _ -> :erlang.error(:custom) end)) ==
               :custom

      assert [_, {"exit", "z", _, "** (ArithmeticError)" <> _}, _, {"exit", "k", _, banner}] =
               read_log(log)

      assert banner == "** (ErlangError) Erlang error: :custom"
    end

    test "the ElixirError carries the Elixir exception module and stacktrace" do
      code = """
      class Keep:
          def __enter__(self):
              return None
          def __exit__(self, kind, value, tb):
              self.error = value
              return False
      Keep()
      """

      keep = SnakeBridge.eval!(code)

      assert_raise KeyError, fn ->
        SnakeBridge.with_python(keep, fn _ -> Keyword.fetch!([], :k) end)
      end

      assert SnakeBridge.eval!("e.error.kind", %{e: keep}) == "KeyError"
      assert SnakeBridge.eval!("e.error.elixir_stacktrace", %{e: keep}) =~ "context_test.exs"

      assert SnakeBridge.eval!(
               "import snakebridge\nisinstance(e.error, snakebridge.ElixirError)",
               %{
                 e: keep
               }
             )
    end

    test "__exit__ returning true suppresses the error and with_python returns nil" do
      log = new_log()

      assert SnakeBridge.with_python(recorder(log, "s", true), fn _ -> raise "suppressed" end) ==
               nil

      assert SnakeBridge.with_python(recorder(log, "s", true), fn _ -> throw(:x) end) == nil
      assert SnakeBridge.with_python(recorder(log, "s", true), fn _ -> exit(:x) end) == nil
      # On success the function's value is returned whatever __exit__ says.
      assert SnakeBridge.with_python(recorder(log, "s", true), fn _ -> :value end) == :value
    end

    test "__exit__ raising is reported as PythonError, chained to the Elixir error" do
      code = """
      class Failing:
          def __enter__(self):
              return None
          def __exit__(self, *exc):
              raise ValueError("exit failed")
      Failing()
      """

      error =
        assert_raise PythonError, "ValueError: exit failed", fn ->
          SnakeBridge.with_python(SnakeBridge.eval!(code), fn _ -> raise "original" end)
        end

      assert error.traceback =~ "snakebridge.ElixirError: ** (RuntimeError) original"
      assert error.traceback =~ "During handling of the above exception"

      assert_raise PythonError, "ValueError: exit failed", fn ->
        SnakeBridge.with_python(SnakeBridge.eval!(code), fn _ -> :fine end)
      end
    end

    test "__exit__ re-raising the error it was given lets the Elixir error continue" do
      code = """
      class Reraise:
          def __enter__(self):
              return None
          def __exit__(self, kind, value, tb):
              if value is not None:
                  raise value
      Reraise()
      """

      assert_raise RuntimeError, "original", fn ->
        SnakeBridge.with_python(SnakeBridge.eval!(code), fn _ -> raise "original" end)
      end
    end

    test "a contextlib.contextmanager sees the error at its yield" do
      code = """
      import contextlib
      @contextlib.contextmanager
      def managed(log):
          try:
              yield "value"
          except Exception as error:
              log.append(type(error).__name__)
              raise
          finally:
              log.append("finally")
      managed(log)
      """

      log = new_log()

      assert_raise RuntimeError, fn ->
        SnakeBridge.with_python(SnakeBridge.eval!(code, %{log: log}), fn "value" -> raise "x" end)
      end

      assert read_log(log) == ["ElixirError", "finally"]
    end

    test "a non-context-manager is a TypeError and the function is not run" do
      assert_raise PythonError, ~r/TypeError: .*context manager/, fn ->
        SnakeBridge.with_python(SnakeBridge.eval!("[]", %{}, return: :ref), fn _ ->
          flunk("ran")
        end)
      end
    end

    test "__enter__ raising is a PythonError and the function is not run" do
      code =
        "class E:\n    def __enter__(self):\n        raise OSError('no')\n    def __exit__(self, *a):\n        pass\nE()"

      assert_raise PythonError, "OSError: no", fn ->
        SnakeBridge.with_python(SnakeBridge.eval!(code), fn _ -> flunk("ran") end)
      end
    end
  end

  describe "with_python/2 when the owner dies" do
    @marking """
    class Marking:
        def __init__(self, path):
            self.path = path
        def __enter__(self):
            return None
        def __exit__(self, kind, value, tb):
            with open(self.path, "w") as marker:
                marker.write(f"{type(value).__name__}: {value}")
            return False
    Marking(path)
    """

    # Spawns a process that enters a Marking block and runs `inside` there; returns
    # its pid once it is inside.
    defp spawn_inside_block(marker, inside) do
      parent = self()

      pid =
        spawn(fn ->
          manager = SnakeBridge.eval!(@marking, %{path: marker})

          SnakeBridge.with_python(manager, fn _ ->
            send(parent, :inside)
            inside.()
          end)
        end)

      assert_receive :inside, 5_000
      pid
    end

    test "__exit__ still runs when the process inside the block is killed", %{tmp_dir: dir} do
      marker = Path.join(dir, "exited")
      pid = spawn_inside_block(marker, fn -> Process.sleep(:infinity) end)
      refute File.exists?(marker)
      Process.exit(pid, :kill)

      assert wait_for_file(marker, 2_000), "__exit__ did not run within 2 s of the kill"
      assert File.read!(marker) =~ "ElixirError: the session ended"
    end

    test "__exit__ runs when the owner dies while a Python call in the block is running",
         %{tmp_dir: dir} do
      marker = Path.join(dir, "exited")
      pid = spawn_inside_block(marker, fn -> SnakeBridge.call!("time", "sleep", [30]) end)
      # Let the sleep start in Python before the kill.
      Process.sleep(100)
      Process.exit(pid, :kill)

      assert wait_for_file(marker, 2_000), "__exit__ did not run within 2 s of the kill"
    end
  end

  defp wait_for_file(path, timeout) do
    cond do
      File.exists?(path) and File.read!(path) != "" ->
        true

      timeout <= 0 ->
        false

      true ->
        Process.sleep(20)
        wait_for_file(path, timeout - 20)
    end
  end
end
