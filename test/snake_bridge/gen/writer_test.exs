defmodule SnakeBridge.Gen.WriterTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.Gen.Writer

  @moduletag :tmp_dir

  test "identical content is not rewritten and keeps its mtime", %{tmp_dir: dir} do
    path = Path.join(dir, "a/b.ex")
    assert Writer.write(path, "x") == :written
    File.touch!(path, 1_000_000_000)
    assert Writer.write(path, "x") == :unchanged
    assert File.stat!(path, time: :posix).mtime == 1_000_000_000
    assert Writer.write(path, "y") == :written
    assert File.read!(path) == "y"
    assert File.ls!(Path.join(dir, "a")) == ["b.ex"]
  end

  test "concurrent writers of one file leave one whole file and no temp", %{tmp_dir: dir} do
    path = Path.join(dir, "c.ex")
    contents = for i <- 1..16, do: String.duplicate("#{i}", 50_000)

    contents
    |> Enum.map(fn content -> Task.async(fn -> Writer.write(path, content) end) end)
    |> Task.await_many()

    assert File.read!(path) in contents
    assert File.ls!(dir) == ["c.ex"]
  end

  test "the lock serializes and records its owner", %{tmp_dir: dir} do
    lock = Path.join(dir, "x.lock")
    parent = self()

    Writer.with_lock(lock, fn ->
      [pid | _] = lock |> File.read!() |> String.split()
      assert pid == System.pid()

      task = Task.async(fn -> Writer.with_lock(lock, fn -> send(parent, :second) end) end)
      refute_receive :second, 200
      send(parent, :released)
      task
    end)
    |> Task.await()

    assert_received :second
    refute File.exists?(lock)
  end

  test "a lock whose owner is dead is broken; temps of dead writers are swept", %{tmp_dir: dir} do
    {dead, 0} = System.cmd("sh", ["-c", "echo $$"])
    dead = String.trim(dead)
    {:ok, host} = :inet.gethostname()
    lock = Path.join(dir, "x.lock")
    File.write!(lock, "#{dead} 1 #{host} nonode@nohost\n")
    temp = Path.join(dir, ".f.ex.#{dead}-#{host}-nonode_nohost-0a.sbtmp")
    File.write!(temp, "partial")

    assert Writer.with_lock(lock, fn -> Writer.sweep(dir) && :ran end) == :ran
    assert File.ls!(dir) == []
  end

  test "a lock held by a live process is waited for, then raises naming it", %{tmp_dir: dir} do
    lock = Path.join(dir, "x.lock")
    {:ok, host} = :inet.gethostname()
    File.write!(lock, "1 ? #{host} init\n")

    assert_raise RuntimeError, ~r/held by a live process \(1 \? /, fn ->
      Writer.with_lock(lock, 100, fn -> :never end)
    end
  end
end
