defmodule SnakeBridge.ShmTest do
  # The shared-memory path, forced on for small payloads (its default threshold is
  # 256 MiB). The threshold is global on the BEAM side, hence async: false.
  use ExUnit.Case, async: false

  alias SnakeBridge.Bytes

  @threshold 65_536

  setup do
    previous = Application.get_env(:snakebridge, :shm_threshold)
    Application.put_env(:snakebridge, :shm_threshold, @threshold)
    :persistent_term.erase({SnakeBridge.Shm, :threshold})

    on_exit(fn ->
      if previous,
        do: Application.put_env(:snakebridge, :shm_threshold, previous),
        else: Application.delete_env(:snakebridge, :shm_threshold)

      :persistent_term.erase({SnakeBridge.Shm, :threshold})
    end)

    start_supervised!({SnakeBridge.Pool, name: :shm_test, size: 1})
    {:ok, python_pid} = SnakeBridge.eval("import os\nos.getpid()", %{}, pool: :shm_test)
    %{python_pid: python_pid}
  end

  defp call(module, function, args),
    do: SnakeBridge.call(module, function, args, [], pool: :shm_test)

  test "bytes cross through /dev/shm both ways, exactly, and every segment is deleted", %{
    python_pid: python_pid
  } do
    data = :crypto.strong_rand_bytes(1_000_000)
    assert {:ok, %Bytes{data: ^data}} = call("builtins", "bytes", [SnakeBridge.bytes(data)])

    # Each side made its segment directory (only the file path does) and holds no
    # segment now: the reader deleted it.
    assert File.ls!("/dev/shm/snakebridge-beam-#{System.pid()}") == []
    assert File.ls!("/dev/shm/snakebridge-#{python_pid}") == []
  end

  test "text above the threshold stays text" do
    text = String.duplicate("ü", 100_000)
    assert call("builtins", "str", [text]) == {:ok, text}
  end

  test "a worker's segments are removed when it dies", %{python_pid: python_pid} do
    dir = "/dev/shm/snakebridge-#{python_pid}"
    # A segment nobody read, as a reply to a caller that gave up leaves behind.
    code =
      "import os\nos.makedirs(d, exist_ok=True)\nopen(os.path.join(d, 'x'), 'wb').write(b'1')"

    assert {:ok, 1} = SnakeBridge.eval(code, %{"d" => dir}, pool: :shm_test)
    assert File.exists?(Path.join(dir, "x"))

    assert {:error, %SnakeBridge.WorkerCrashError{}} = call("os", "_exit", [3])
    assert wait_until(fn -> not File.exists?(dir) end), "#{dir} outlived its worker"
  end

  defp wait_until(fun, tries \\ 100) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(20) && wait_until(fun, tries - 1)
    end
  end

  test "segment directories of VMs no longer running are removed, others kept" do
    # Above Linux's largest pid (2^22), so never a running process.
    stale = "/dev/shm/snakebridge-beam-999999999"
    own = "/dev/shm/snakebridge-beam-#{System.pid()}"
    File.mkdir_p!(stale)
    File.write!(Path.join(stale, "1"), "left behind")
    File.mkdir_p!(own)

    assert SnakeBridge.Shm.remove_directories(own: false) == :ok
    refute File.exists?(stale)
    assert File.dir?(own)

    assert SnakeBridge.Shm.remove_directories(own: true) == :ok
    refute File.exists?(own)
  end
end
