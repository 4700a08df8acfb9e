defmodule SnakeBridge.ForkTest do
  # A process forked inside a worker never touches the worker's channels: it cannot
  # read the requests meant for the worker nor answer them with its copy of the refs.
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  @fork_and_exit """
  import os, sys
  pid = os.fork()
  if pid == 0:
      sys.exit(0)
  os.waitpid(pid, 0)
  pid
  """

  setup do
    pool = :"fork_test_#{System.unique_integer([:positive])}"
    start_supervised!({SnakeBridge.Pool, name: pool, size: 1})
    await_pool(pool)
    %{pool: pool}
  end

  defp objects_read_back(pool) do
    refs = for n <- 1..40, do: SnakeBridge.eval!("[#{n}]", %{}, pool: pool, return: :ref)
    for ref <- refs, do: SnakeBridge.to_elixir!(ref)
  end

  test "a child that returns to the engine (sys.exit caught) serves nothing", %{pool: pool} do
    assert is_integer(SnakeBridge.eval!(@fork_and_exit, %{}, pool: pool))
    assert objects_read_back(pool) == for(n <- 1..40, do: [n])
    refute_received {:snakebridge_reply, _, _, _}
  end

  test "a multiprocessing child (fork start method) serves nothing", %{pool: pool} do
    code = """
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    p = ctx.Process(target=lambda: None)
    p.start()
    p.join()
    p.exitcode
    """

    assert SnakeBridge.eval!(code, %{}, pool: pool) == 0
    assert objects_read_back(pool) == for(n <- 1..40, do: [n])
    refute_received {:snakebridge_reply, _, _, _}
  end

  test "a forked child holds none of the channel's descriptors", %{pool: pool} do
    code = """
    import os
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        held = [fd for fd in (3, 4) if os.path.exists(f"/proc/self/fd/{fd}")
                and "pipe:" in os.readlink(f"/proc/self/fd/{fd}")]
        os.write(w, repr(held).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(w)
    out = os.read(r, 100).decode()
    os.close(r)
    out
    """

    assert SnakeBridge.eval!(code, %{}, pool: pool) == "[]"
  end
end
