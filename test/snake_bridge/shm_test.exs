defmodule SnakeBridge.ShmTest do
  # The shared-memory path, forced on for small payloads (its default threshold is
  # 256 MiB). The threshold is global on the BEAM side, hence async: false.
  use ExUnit.Case, async: false
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{Bytes, EncodeError, Shm}

  @threshold 65_536
  # A uid nobody here runs as: the "other local user" of the trust tests.
  @other_uid 65_534

  setup do
    previous = Application.get_env(:snakebridge, :shm_threshold)
    Application.put_env(:snakebridge, :shm_threshold, @threshold)
    :persistent_term.erase({Shm, :threshold})

    on_exit(fn ->
      if previous,
        do: Application.put_env(:snakebridge, :shm_threshold, previous),
        else: Application.delete_env(:snakebridge, :shm_threshold)

      :persistent_term.erase({Shm, :threshold})
    end)

    start_supervised!({SnakeBridge.Pool, name: :shm_test, size: 1})
    {:ok, worker_dir} = eval("import os\nos.environ['SNAKEBRIDGE_SEGMENT_DIR']")
    %{worker_dir: worker_dir}
  end

  defp call(module, function, args),
    do: SnakeBridge.call(module, function, args, [], pool: :shm_test)

  defp eval(code, bindings \\ %{}), do: SnakeBridge.eval(code, bindings, pool: :shm_test)

  # Runs `command` as another local user; skips (saying why) where that is not possible.
  defp as_other_user(command) do
    if root?() do
      System.cmd(
        "setpriv",
        ["--reuid=#{@other_uid}", "--regid=#{@other_uid}", "--clear-groups", "sh", "-c", command],
        stderr_to_stdout: true
      )
    else
      IO.puts("\n[shm_test] skipped: needs root to act as a second uid")
      :skipped
    end
  end

  defp root?, do: File.stat!("/proc/self").uid == 0

  defp mode(path), do: Bitwise.band(File.lstat!(path).mode, 0o777)

  test "bytes cross through /dev/shm both ways, exactly, and every segment is deleted", %{
    worker_dir: worker_dir
  } do
    data = :crypto.strong_rand_bytes(1_000_000)
    assert {:ok, %Bytes{data: ^data}} = call("builtins", "bytes", [SnakeBridge.bytes(data)])

    # The reader deleted each segment.
    assert File.ls!(Shm.directory()) == []
    assert File.ls!(worker_dir) == []
  end

  test "a reply the VM cannot decode leaves no segment behind", %{worker_dir: worker_dir} do
    # Two NaN keys: a dict the VM refuses, whose values were written to segments.
    code = "{float('nan'): b'x' * 100_000, float('nan'): b'y' * 100_000}"
    assert {:error, %EncodeError{}} = eval(code)
    assert File.ls!(worker_dir) == []
  end

  test "a request refused before it is sent leaves no segment to the next one" do
    big = :binary.copy("x", @threshold)

    # The arguments are prepared (the binary goes to a segment file), then the keyword
    # arguments refused.
    assert {:error, %EncodeError{reason: reason}} =
             SnakeBridge.call("builtins", "len", [big], [{"a", 1}, {"a", 2}], pool: :shm_test)

    assert reason =~ "given twice"
    assert Process.get({Shm, :files}) == nil
    assert Process.get({Shm, :blobs}) == nil
    assert call("builtins", "len", ["x"]) == {:ok, 1}
  end

  test "text above the threshold stays text" do
    text = String.duplicate("ü", 100_000)
    assert call("builtins", "str", [text]) == {:ok, text}
  end

  test "a worker's segments are removed when it dies", %{worker_dir: dir} do
    # A segment nobody read, as a reply to a caller that gave up leaves behind.
    assert {:ok, 1} = eval("open(d + '/x', 'wb').write(b'1')", %{"d" => dir})
    assert File.exists?(Path.join(dir, "x"))

    assert {:error, %SnakeBridge.WorkerCrashError{}} = call("os", "_exit", [3])
    eventually("#{dir} removed after its worker", 5_000, fn -> not File.exists?(dir) end)
  end

  test "a request queued behind a crash keeps its segments for the replacement" do
    go = tmp_path("go")
    code = "import os, time\nwhile not os.path.exists(go): time.sleep(0.01)\nos._exit(3)"
    killer = Task.async(fn -> eval(code, %{"go" => go}) end)
    meta = SnakeBridge.Pool.Table.meta(:shm_test)
    in_flight = fn -> SnakeBridge.Pool.Table.in_flight(meta, 0) end
    eventually("the killer running", 5_000, fn -> in_flight.() == 1 end)

    data = :crypto.strong_rand_bytes(1_000_000)
    digest = "import hashlib\nhashlib.sha256(data).hexdigest()"
    queued = Task.async(fn -> eval(digest, %{"data" => SnakeBridge.bytes(data)}) end)
    eventually("the request queued", 5_000, fn -> in_flight.() == 2 end)
    assert [_segment] = File.ls!(Shm.directory())
    File.touch!(go)

    assert {:error, %SnakeBridge.WorkerCrashError{status: 3}} = Task.await(killer, 10_000)

    assert Task.await(queued, 10_000) ==
             {:ok, Base.encode16(:crypto.hash(:sha256, data), case: :lower)}

    assert File.ls!(Shm.directory()) == []
  end

  describe "trust" do
    test "segment directories are fresh, unpredictable, private and ours", %{
      worker_dir: worker_dir
    } do
      for dir <- [Shm.directory(), worker_dir] do
        assert Path.dirname(dir) == "/dev/shm"
        assert mode(dir) == 0o700
        assert File.lstat!(dir).uid == File.stat!("/proc/self").uid
        # A random part follows the fixed prefix, so nobody can make the name first.
        assert Path.basename(dir) =~ ~r/^snakebridge-(beam-[0-9]+|worker)-[A-Za-z0-9_-]{8,}$/
      end
    end

    test "segment files are created exclusively, with mode 0600" do
      %Shm{path: path} = Shm.detach(:binary.copy("s", @threshold))

      try do
        assert mode(path) == 0o600
        assert File.lstat!(path).type == :regular
      after
        Shm.clean_up()
      end

      refute File.exists?(path)
    end

    test "segments relayed to another host are taken once, and deleted there when the call ends" do
      relay = self()
      %Shm{path: first} = Shm.detach(:binary.copy("a", @threshold))
      assert [{^first, bytes}] = Shm.take_for_relay(relay)
      assert bytes == :binary.copy("a", @threshold)
      refute File.exists?(first)

      # A later frame of the same request carries only the files written since.
      %Shm{path: second} = Shm.detach(:binary.copy("b", @threshold))
      assert [{^second, _}] = Shm.take_for_relay(relay)
      assert Shm.take_for_relay(relay) == []

      # What the relay wrote on its host (this one here): deleted once the call ends, by
      # the relay and by its node.
      File.write!(first, "relayed")
      Shm.clean_up()
      assert_receive {:snakebridge_delete_relayed, paths}
      assert Enum.sort(paths) == Enum.sort([first, second])
      Shm.Files.delete_relayed(paths)
      refute File.exists?(first)
      assert Process.get({Shm, :files}) == nil
    end

    test "a node shares this VM's /dev/shm only if it reads back the probe's token" do
      {path, token} = probe = Shm.probe()
      assert Path.dirname(path) == Shm.directory()
      assert mode(path) == 0o600
      assert Shm.probe_visible?(probe)
      refute Shm.probe_visible?({path, :crypto.strong_rand_bytes(16)})
      refute Shm.probe_visible?(nil)
      File.write!(tmp_path("probe"), token)
      refute Shm.probe_visible?({tmp_path("probe"), token})
      Shm.drop_probe(probe)
      refute File.exists?(path)
      refute Shm.probe_visible?(probe)
    end

    test "only files in a BEAM's segment directory are deleted for a relay" do
      outside = tmp_path("not-a-segment")
      File.write!(outside, "kept")
      Shm.Files.delete_relayed([outside, "/etc/hostname"])
      assert File.read!(outside) == "kept"
    end

    test "the directory name of the old scheme, pre-made full of symlinks, is never used" do
      victim = tmp_path("victim")
      File.write!(victim, "root only")
      File.chmod!(victim, 0o600)
      trap = "/dev/shm/snakebridge-beam-#{System.pid()}"
      File.mkdir_p!(trap)
      on_exit(fn -> File.rm_rf(trap) end)
      for n <- 1..50, do: File.ln_s(victim, Path.join(trap, Integer.to_string(n)))

      data = :binary.copy("x", 100_000)
      assert {:ok, %Bytes{data: ^data}} = call("builtins", "bytes", [SnakeBridge.bytes(data)])
      assert File.read!(victim) == "root only"
    end

    test "another local user can neither read nor replace segments", %{worker_dir: worker_dir} do
      for dir <- [Shm.directory(), worker_dir] do
        case as_other_user("ls #{dir} && touch #{dir}/planted") do
          :skipped ->
            :ok

          {output, status} ->
            assert status != 0
            assert output =~ "Permission denied"
            refute File.exists?(Path.join(dir, "planted"))
        end
      end
    end

    test "a segment in a reply that is not ours is refused with a clear error", %{
      worker_dir: worker_dir
    } do
      path = Path.join(worker_dir, "planted")
      File.write!(path, "forged")
      File.chmod!(path, 0o600)
      segment = %Shm{path: path, size: 6}

      if root?() do
        File.chown!(path, @other_uid)

        assert_raise RuntimeError, ~r/belongs to uid #{@other_uid}/, fn ->
          Shm.resolve(segment, <<>>)
        end

        File.chown!(path, 0)
      else
        IO.puts("\n[shm_test] skipped the foreign-owner case: needs root")
      end

      File.chmod!(path, 0o644)
      assert_raise RuntimeError, ~r/others may access it/, fn -> Shm.resolve(segment, <<>>) end

      File.rm!(path)
      File.ln_s!("/etc/hostname", path)
      assert_raise RuntimeError, ~r/symlink, not a regular/, fn -> Shm.resolve(segment, <<>>) end
      File.rm!(path)

      outside = %Shm{path: "/tmp/snakebridge-planted", size: 6}

      assert_raise RuntimeError, ~r/not in a SnakeBridge directory/, fn ->
        Shm.resolve(outside, <<>>)
      end
    end

    test "a worker reads segments only from a BEAM's private directory of its uid" do
      # A map posing as a segment never reaches Python (see malformed_test.exs); here the
      # worker itself is asked to read files elsewhere in /dev/shm.
      code = """
      from snakebridge._shm import read_segment
      read_segment({"path": p, "size": 5}, memoryview(b""))
      """

      not_a_beams = "/dev/shm/snakebridge-planted-#{System.unique_integer([:positive])}"
      foreign = "/dev/shm/snakebridge-beam-1-foreign-#{System.unique_integer([:positive])}"

      for dir <- [not_a_beams, foreign] do
        File.mkdir_p!(dir)
        File.chmod!(dir, 0o700)
        on_exit(fn -> File.rm_rf(dir) end)
        File.write!(Path.join(dir, "1"), "other")
        File.chmod!(Path.join(dir, "1"), 0o600)
      end

      assert {:error, error} = eval(code, %{"p" => Path.join(not_a_beams, "1")})
      assert Exception.message(error) =~ "malformed"

      if root?() do
        File.chown!(foreign, @other_uid)
        assert {:error, error} = eval(code, %{"p" => Path.join(foreign, "1")})
        assert Exception.message(error) =~ "belongs to uid #{@other_uid}"
      end

      assert File.read!(Path.join(not_a_beams, "1")) == "other"
      assert File.read!(Path.join(foreign, "1")) == "other"
    end
  end

  test "a result read from /dev/shm is not pinned once its caller drops it" do
    size = 50_000_000
    :erlang.garbage_collect()
    before = :erlang.memory(:binary)

    task =
      Task.async(fn ->
        {:ok, %Bytes{data: data}} = eval("b'y' * #{size}")
        byte_size(data)
      end)

    assert Task.await(task, 30_000) == size

    eventually("the result's memory freed", 10_000, fn ->
      :erlang.garbage_collect()
      :erlang.memory(:binary) < before + div(size, 2)
    end)
  end

  test "a caller killed while its request waits for a busy port leaves no segment" do
    long = Task.async(fn -> eval("import time\ntime.sleep(4)\n'done'") end)

    eventually("the long call running", 5_000, fn -> in_flight() == 1 end)

    # Requests just under the threshold travel in the frame: enough of them fill the
    # pipe and make the port busy.
    fillers =
      for _ <- 1..40 do
        data = SnakeBridge.bytes(:binary.copy("f", @threshold - 1))
        Task.async(fn -> call("builtins", "len", [data]) end)
      end

    {pid, monitor} =
      spawn_monitor(fn ->
        call("builtins", "len", [SnakeBridge.bytes(:binary.copy("v", 1_000_000))])
      end)

    eventually("the victim's segment written", 5_000, fn -> File.ls!(Shm.directory()) != [] end)
    Process.exit(pid, :kill)
    assert_receive {:DOWN, ^monitor, :process, ^pid, :killed}, 5_000

    eventually("the victim's segment deleted", 5_000, fn -> File.ls!(Shm.directory()) == [] end)
    assert Task.yield(long, 0) == nil, "the long call was to be still running"

    assert Task.await(long, 20_000) == {:ok, "done"}
    for result <- Task.await_many(fillers, 20_000), do: assert(result == {:ok, @threshold - 1})
  end

  defp in_flight,
    do: SnakeBridge.Pool.Table.in_flight(SnakeBridge.Pool.Table.meta(:shm_test), 0)

  describe ":max_frame" do
    test "bounds shared-memory payloads both ways" do
      start_supervised!({SnakeBridge.Pool, name: :shm_small_frame, size: 1, max_frame: 100_000},
        id: :small
      )

      big = :binary.copy("a", 200_000)

      assert {:error, %EncodeError{reason: reason}} =
               SnakeBridge.call("builtins", "len", [SnakeBridge.bytes(big)], [],
                 pool: :shm_small_frame
               )

      assert reason =~ "max_frame"

      assert {:error, error} = SnakeBridge.eval("b'a' * 200_000", %{}, pool: :shm_small_frame)

      assert Exception.message(error) =~ "over the limit"
      assert SnakeBridge.eval("1", %{}, pool: :shm_small_frame) == {:ok, 1}
    end
  end

  test "segment directories of VMs no longer running are removed; others' are kept" do
    # Above Linux's largest pid (2^22), so never a running process.
    stale = "/dev/shm/snakebridge-beam-999999999-stale"
    foreign = "/dev/shm/snakebridge-beam-999999998-foreign"

    for dir <- [stale, foreign] do
      File.mkdir_p!(dir)
      File.chmod!(dir, 0o700)
      File.write!(Path.join(dir, "1"), "left behind")
    end

    on_exit(fn -> File.rm_rf(foreign) end)
    if root?(), do: File.chown!(foreign, @other_uid)

    assert Shm.remove_directories(own: false) == :ok
    refute File.exists?(stale)
    if root?(), do: assert(File.dir?(foreign))
    assert File.dir?(Shm.directory())
  end

  test "a callback's result that went to a segment is deleted when its call ends" do
    data = :crypto.strong_rand_bytes(@threshold * 2)
    {:ok, size_of_result} = eval("lambda f: len(f())")
    callback = fn -> SnakeBridge.bytes(data) end

    assert SnakeBridge.call(size_of_result, "__call__", [callback], [], pool: :shm_test) ==
             {:ok, byte_size(data)}

    assert Process.get({Shm, :files}) == nil
    assert File.ls!(Shm.directory()) == []
  end

  test "a segment that cannot be written refuses the request with a clear error" do
    directory = Shm.directory()
    File.rm_rf!(directory)
    on_exit(fn -> :persistent_term.erase({Shm, :directory}) end)
    data = :crypto.strong_rand_bytes(@threshold * 2)

    assert {:error, %EncodeError{reason: reason}} =
             call("builtins", "bytes", [SnakeBridge.bytes(data)])

    assert reason =~ "cannot write a shared-memory segment in #{directory} (enoent)"
    assert Process.get({Shm, :files}) == nil
  end

  test "segments cross again after the application is stopped and started" do
    data = :crypto.strong_rand_bytes(@threshold * 2)
    before = Shm.directory()
    Application.stop(:snakebridge)
    refute File.exists?(before)

    {:ok, _} = Application.ensure_all_started(:snakebridge)

    assert {:ok, %Bytes{data: ^data}} =
             SnakeBridge.call("builtins", "bytes", [SnakeBridge.bytes(data)])

    assert File.dir?(Shm.directory())
    refute Shm.directory() == before
  end
end
