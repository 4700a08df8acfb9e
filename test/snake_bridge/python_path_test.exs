defmodule SnakeBridge.PythonPathTest do
  # Your own modules at runtime: add_python_path/2 and reload_module/2, on every worker
  # of a pool, including a worker that replaces a crashed one.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  doctest SnakeBridge, only: [add_python_path: 2]

  setup do
    pool = :"python_path_#{System.unique_integer([:positive])}"
    start_supervised!({SnakeBridge.Pool, name: pool, size: 2}, id: pool)
    await_pool(pool)
    dir = tmp_path("pypath")
    File.mkdir_p!(dir)
    %{pool: pool, dir: dir}
  end

  defp on(pool, index, module, function, args \\ []) do
    SnakeBridge.call(module, function, args, [], pool: pool, session: session_on(pool, index))
  end

  test "modules in the directory import on every worker", %{pool: pool, dir: dir} do
    File.write!(Path.join(dir, "compat_mod_a.py"), "def answer():\n    return 42\n")

    assert {:error, %SnakeBridge.PythonError{type: "ModuleNotFoundError"}} =
             on(pool, 0, "compat_mod_a", "answer")

    assert SnakeBridge.add_python_path(dir, pool: pool) == :ok
    assert on(pool, 0, "compat_mod_a", "answer") == {:ok, 42}
    assert on(pool, 1, "compat_mod_a", "answer") == {:ok, 42}

    # Added once: a second add keeps one entry.
    assert SnakeBridge.add_python_path(dir, pool: pool) == :ok

    assert {:ok, 1} =
             on(pool, 1, "builtins", "eval", ["__import__('sys').path.count(p)", %{"p" => dir}])
  end

  test "a relative path is expanded, and the default pool is untouched", %{pool: pool, dir: dir} do
    File.write!(Path.join(dir, "compat_mod_b.py"), "X = 'b'\n")
    relative = Path.relative_to(dir, File.cwd!())
    assert SnakeBridge.add_python_path(relative, pool: pool) == :ok
    assert {:ok, "b"} = SnakeBridge.attr("compat_mod_b", "X", pool: pool)
    assert {:error, %SnakeBridge.PythonError{}} = SnakeBridge.attr("compat_mod_b", "X")
  end

  @tag capture_log: true
  test "a worker that replaces a crashed one starts with the path", %{pool: pool, dir: dir} do
    File.write!(Path.join(dir, "compat_mod_c.py"), "X = 'c'\n")
    :ok = SnakeBridge.add_python_path(dir, pool: pool)
    {:ok, old_pid} = on(pool, 0, "os", "getpid")
    System.cmd("kill", ["-9", Integer.to_string(old_pid)])

    eventually("the replacement worker", 10_000, fn ->
      match?({:ok, pid} when pid != old_pid, on(pool, 0, "os", "getpid"))
    end)

    assert on(pool, 0, "compat_mod_c", "__getattribute__", ["X"]) == {:ok, "c"}
  end

  test "reload_module/2 picks up a changed source on every worker", %{pool: pool, dir: dir} do
    source = Path.join(dir, "compat_mod_d.py")
    File.write!(source, "def version():\n    return 1\n")
    :ok = SnakeBridge.add_python_path(dir, pool: pool)
    assert on(pool, 0, "compat_mod_d", "version") == {:ok, 1}
    assert on(pool, 1, "compat_mod_d", "version") == {:ok, 1}

    File.write!(source, "def version():\n    return 2\n\ndef extra():\n    return 'new'\n")
    assert SnakeBridge.reload_module("compat_mod_d", pool: pool) == :ok
    assert on(pool, 0, "compat_mod_d", "version") == {:ok, 2}
    assert on(pool, 1, "compat_mod_d", "extra") == {:ok, "new"}
  end

  test "reload_module/2 returns the error of a broken source", %{pool: pool, dir: dir} do
    source = Path.join(dir, "compat_mod_e.py")
    File.write!(source, "X = 1\n")
    :ok = SnakeBridge.add_python_path(dir, pool: pool)
    assert {:ok, 1} = on(pool, 0, "compat_mod_e", "__getattribute__", ["X"])
    File.write!(source, "X = (\n")

    assert {:error, %SnakeBridge.PythonError{type: "SyntaxError"}} =
             SnakeBridge.reload_module("compat_mod_e", pool: pool)
  end

  test "options are checked" do
    assert_raise ArgumentError, ~r/unknown option :pol for SnakeBridge.add_python_path\/2/, fn ->
      SnakeBridge.add_python_path("/tmp", pol: :x)
    end
  end
end
